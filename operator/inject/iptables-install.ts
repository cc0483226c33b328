import { spawn } from 'node:child_process';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { type InterceptionRules, renderIptablesScript } from './iptables-rules.ts';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one program with optional stdin; resolves with its exit code and output (never rejects on exit status). */
export function runCommand(file: string, args: readonly string[], stdin?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.on('error', reject);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {}); // the exit code tells what happened
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(stdin ?? '');
  });
}

export interface InstallOptions {
  readonly families: readonly (4 | 6)[];
  /** Injectable for tests of the error paths; defaults to spawning the real binaries. */
  readonly run?: typeof runCommand;
}

export interface InstallReport {
  readonly family: 4 | 6;
  /** True when our chains existed already and were refilled without adding the hooks again. */
  readonly reinstalled: boolean;
  readonly script: string;
}

/**
 * Installs the interception rules with `iptables-restore --noflush` (and `ip6tables-restore` for
 * family 6). Idempotent: when the ZTMESH chains exist already, only their contents are replaced.
 */
export async function installInterception(rules: InterceptionRules, options: InstallOptions): Promise<InstallReport[]> {
  const run = options.run ?? runCommand;
  const reports: InstallReport[] = [];
  for (const family of options.families) {
    const tool = family === 4 ? 'iptables' : 'ip6tables';
    const saved = await exec(run, `${tool}-save`, ['-t', 'nat']);
    const reinstalled = /^:ZTMESH_INBOUND /m.test(saved.stdout);
    const script = renderIptablesScript(rules, { family, hookChains: !reinstalled });
    const restored = await exec(run, `${tool}-restore`, ['--noflush'], script);
    if (restored.code !== 0) {
      throw new MeshError('ZTMESH_INJECT_IPTABLES_FAILED', `${tool}-restore --noflush failed (exit ${restored.code}): ${restored.stderr.trim()}`, {
        details: { tool, exitCode: restored.code },
      });
    }
    reports.push({ family, reinstalled, script });
  }
  return reports;
}

async function exec(run: typeof runCommand, file: string, args: readonly string[], stdin?: string): Promise<CommandResult> {
  try {
    return await run(file, args, stdin);
  } catch (err) {
    throw new MeshError('ZTMESH_INJECT_IPTABLES_FAILED', `cannot run ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
