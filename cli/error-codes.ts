import { defineCodes } from '../core/errors/code-registry.ts';

export const cliCodes = defineCodes('CLI', {
  ZTMESH_CLI_BAD_ARGS: 'A command-line flag is unknown, missing its value, or malformed.',
});
