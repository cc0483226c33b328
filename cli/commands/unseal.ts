import { readSealedFile } from '../../core/seal/sealed-file.ts';
import { loadSealKeyRing } from '../../core/seal/seal-key.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseFlags } from '../args.ts';
import type { Command } from '../io.ts';

const USAGE = `Usage: ztmesh unseal FILE [--seal-key-file F]   write FILE's plaintext to stdout
The key comes from ZTMESH_SEAL_KEY (base64, 32 bytes) or --seal-key-file F (any key in the file opens).
`;

/** `ztmesh unseal FILE`: the plaintext on stdout; a wrong key, tampering or truncation is an error naming FILE. */
export const run: Command = async (argv, io) => {
  if (argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(USAGE);
    return 0;
  }
  const { values, positionals } = parseFlags(argv, { 'seal-key-file': { type: 'string' } }, true);
  if (positionals.length !== 1) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `unseal takes exactly one FILE\n${USAGE}`);
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  const plaintext = await readSealedFile(positionals[0]!, ring);
  await new Promise<void>((resolve, reject) => io.stdout.write(plaintext, (err) => (err ? reject(err) : resolve())));
  return 0;
};
