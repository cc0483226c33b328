import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../core/errors/mesh-error.ts';
import { terminalSafe } from './terminal-text.ts';

/** The ztmesh CLI the demo runs its children with: this checkout's, on this Node. */
export const ZTMESH_BIN = fileURLToPath(new URL('../bin/ztmesh.js', import.meta.url));

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  readonly name: string;
  /** Arguments to this Node binary: for ztmesh commands, `[ZTMESH_BIN, ...]` (see `ztmeshArgs`). */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export type LineListener = (name: string, line: string, stream: 'stdout' | 'stderr') => void;

/** Node arguments that run `ztmesh ARGS...` from this checkout. */
export function ztmeshArgs(...args: string[]): string[] {
  return [ZTMESH_BIN, ...args];
}

/**
 * One long-running `ztmesh ...` child (the CA or a sidecar). It runs in its own process group, so a
 * terminal Ctrl-C reaches only the demo, which then stops each child with SIGTERM (the child
 * drains), waits, and only after the grace period sends SIGKILL to the group.
 */
export class DemoChild {
  readonly name: string;
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  #exit: ExitInfo | undefined = undefined;

  constructor(spec: ChildSpec, onLine: LineListener) {
    this.name = spec.name;
    this.#child = spawn(process.execPath, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.#child.once('error', () => {
        // spawn failure (no 'exit' follows): report it as an exit with no code.
        if (this.#exit === undefined) {
          this.#exit = { code: null, signal: null };
          resolve(this.#exit);
        }
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.#child[stream];
      if (source === null) continue;
      source.on('error', () => {});
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => onLine(this.name, line, stream));
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined && this.#child.pid !== undefined;
  }

  /** SIGTERM, then wait up to `graceMs` for the exit, then SIGKILL the whole group. */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.#signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first === 'late') this.killNow();
    return this.exited;
  }

  /** SIGKILL to the child's process group, synchronously (for the last-resort exit hook). */
  killNow(): void {
    if (this.running) this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

/** Describes how a child ended, for an error message. */
export function describeExit(exit: ExitInfo): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
}

/**
 * Runs a one-shot `ztmesh ...` set-up step and returns its stdout. A failure is a
 * ZTMESH_DEMO_STEP_FAILED naming the step and quoting the end of its stderr (never its stdout,
 * which may hold a token).
 */
export function runZtmesh(step: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [ZTMESH_BIN, ...args], { env, cwd, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      reject(
        new MeshError('ZTMESH_DEMO_STEP_FAILED', `${step} failed (${err.code ?? err.signal ?? 'error'}): ${terminalSafe(tail, 600)}`, {
          cause: err,
          details: { step },
        }),
      );
    });
  });
}
