import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ChildSpec {
  /** Names the log file (`<logDir>/<name>.log`) and error messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** One child of the harness: its stdout and stderr go to a log file, shown when it fails. */
export class ManagedChild {
  readonly name: string;
  readonly logFile: string;
  readonly process: ChildProcess;
  readonly exited: Promise<string>;
  #exit: string | undefined = undefined;

  constructor(spec: ChildSpec, logDir: string) {
    this.name = spec.name;
    this.logFile = join(logDir, `${spec.name}.log`);
    const fd = openSync(this.logFile, 'a');
    try {
      this.process = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.process.on('error', (err) => {
        this.#exit = `failed to start: ${err.message}`;
        resolve(this.#exit);
      });
      this.process.on('exit', (code, signal) => {
        this.#exit = signal === null ? `exited with code ${code}` : `killed by ${signal}`;
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error(`${this.name} has no pid: ${this.#exit ?? 'not started'}`);
    return this.process.pid;
  }

  /** How it ended, or undefined while it runs. */
  get exitStatus(): string | undefined {
    return this.#exit;
  }

  /** The last lines of its log, for error messages. */
  logTail(lines = 25): string {
    try {
      const text = readFileSync(this.logFile, 'utf8').trimEnd();
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** A failure message naming the child, how it ended, and its log tail. */
  describeFailure(what: string): string {
    const tail = this.logTail();
    return `${this.name}: ${what}${this.#exit === undefined ? '' : ` (${this.#exit})`}; log ${this.logFile}${tail === '' ? ' is empty' : `:\n${tail}`}`;
  }

  async stop(graceMs: number): Promise<void> {
    if (this.#exit !== undefined || this.process.pid === undefined) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Every child the harness started: stopped together, on success, failure and Ctrl-C alike. */
export class ChildGroup {
  readonly logDir: string;
  readonly #children = new Set<ManagedChild>();

  constructor(logDir: string) {
    this.logDir = logDir;
  }

  start(spec: ChildSpec): ManagedChild {
    const child = new ManagedChild(spec, this.logDir);
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
    return child;
  }

  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all([...this.#children].map((child) => child.stop(graceMs)));
  }

  /** Last resort from a synchronous 'exit' handler. */
  killAllNow(): void {
    for (const child of this.#children) if (child.exitStatus === undefined) child.process.kill('SIGKILL');
  }
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => resolve(false));
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

/** Waits until `port` accepts connections; fails early (with its log) if `child` exits first. */
export async function waitForPort(port: number, child: ManagedChild, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitStatus !== undefined) throw new Error(child.describeFailure(`exited before listening on ${port}`));
    if (await tryConnect(port)) return;
    await delay(50);
  }
  throw new Error(child.describeFailure(`not listening on 127.0.0.1:${port} after ${timeoutMs} ms`));
}

/** Waits until GET `url` answers 200; fails early (with its log) if `child` exits first. */
export async function waitForHttpOk(url: string, child: ManagedChild, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitStatus !== undefined) throw new Error(child.describeFailure(`exited before ${url} answered 200 (last: ${last})`));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await delay(100);
  }
  throw new Error(child.describeFailure(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`));
}
