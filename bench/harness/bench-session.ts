import { existsSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApps } from './apps.ts';
import type { BenchEnv } from './bench-env.ts';
import { ChildGroup } from './child-processes.ts';
import { OtlpSink } from './otlp-sink.ts';
import { createBenchPki } from './pki.ts';

/** One harness run's temp dir, children and OTLP sink. */
export interface BenchSession {
  readonly tmpDir: string;
  readonly group: ChildGroup;
  readonly sink: OtlpSink;
  /** Stops every child (SIGTERM, then SIGKILL) and closes the sink; the temp dir goes on exit. */
  close(): Promise<void>;
}

/**
 * Creates the temp dir (`<tmpdir>/<prefix>XXXXXX`) and the child group of a harness run. On exit
 * every child is killed and the dir removed (or kept, and said, with `keep`); SIGINT and SIGTERM
 * stop the children first and exit 130.
 */
export async function openBenchSession(prefix: string, label: string, options: { keep?: boolean; say?: (line: string) => void } = {}): Promise<BenchSession> {
  const tmpDir = await mkdtemp(join(tmpdir(), prefix));
  const group = new ChildGroup(tmpDir);
  const sink = new OtlpSink();
  let cleaned = false;
  const cleanupNow = (): void => {
    if (cleaned) return;
    cleaned = true;
    group.killAllNow();
    if (options.keep) options.say?.(`${label}: kept ${tmpDir}`);
    else rmSync(tmpDir, { recursive: true, force: true });
  };
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${label}: ${signal}: stopping every child and removing ${tmpDir}\n`);
      void group.stopAll(1000).finally(() => {
        cleanupNow();
        process.exit(130);
      });
    });
  }
  return {
    tmpDir, group, sink,
    async close() {
      await group.stopAll();
      await sink.close();
    },
  };
}

/** What every contender needs, started in `session`: a throwaway PKI, the OTLP sink, the apps; Node 24 from node_modules. */
export async function startBenchEnv(session: BenchSession, repoRoot: string): Promise<BenchEnv> {
  const nodeLink = join(repoRoot, 'node_modules', '.bin', 'node');
  const nodeBin = existsSync(nodeLink) ? realpathSync(nodeLink) : process.execPath;
  const pkiDir = join(session.tmpDir, 'pki');
  await mkdir(pkiDir, { recursive: true });
  const pki = await createBenchPki(pkiDir);
  const sinkPort = await session.sink.listen();
  const appPorts = await startApps(session.group, session.tmpDir, nodeBin);
  return { tmpDir: session.tmpDir, group: session.group, pki, repoRoot, nodeBin, appPorts, sink: session.sink, sinkPort };
}
