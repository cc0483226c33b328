import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MeshError } from '../core/errors/mesh-error.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict flag parsing for every subcommand: an unknown flag or a missing value is a
 * ZTMESH_CLI_BAD_ARGS error naming it (the CLI maps it to exit 2).
 */
export function parseFlags<const O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new MeshError('ZTMESH_CLI_BAD_ARGS', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new MeshError('ZTMESH_CLI_BAD_ARGS', `missing required flag --${flag}`);
  return value;
}
