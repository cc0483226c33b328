import type { Readable, Writable } from 'node:stream';

/** What a CLI command may touch of the process: its streams and environment. Tests pass their own. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** A command: its argv after the subcommand name; resolves to the process exit code. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;
