import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ztmesh.js', import.meta.url));

/** A `ztmesh operator` child process, started and read through its JSON log lines. */
export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly distributionPort: number;
  readonly adminPort: number;
  /** With --dashboard-listen: the dashboard's port. */
  readonly dashboardPort: number | undefined;
  readonly logs: Record<string, unknown>[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns the real CLI (`node bin/ztmesh.js operator ARGS`) and waits for its "operator started" line. */
export async function startOperatorProcess(args: readonly string[], timeoutMs = 45_000): Promise<OperatorProcess> {
  const child = spawn(process.execPath, [BIN, 'operator', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZTMESH_LOG_LEVEL: 'info' } });
  child.on('error', () => undefined);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<{ distributionPort: number; adminPort: number; dashboardPort: number | undefined }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`operator did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    createInterface(child.stdout!).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry['msg'] === 'operator started') {
        clearTimeout(timer);
        resolve({ distributionPort: entry['distributionPort'] as number, adminPort: entry['adminPort'] as number, dashboardPort: entry['dashboardPort'] as number | undefined });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`operator exited with ${code} before starting: ${stderr}${JSON.stringify(logs.slice(-3))}`));
    });
  });
  const ports = await started;
  return {
    child,
    ...ports,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
