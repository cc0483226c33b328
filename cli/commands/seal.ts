import { access } from 'node:fs/promises';
import { rewrap, seal } from '../../core/seal/envelope.ts';
import { readFileOrFail, writeFileAtomic } from '../../core/seal/sealed-file.ts';
import { keyRing, loadSealKeyRing, readSealKeyFile, sealKeyFromBase64, type SealKey } from '../../core/seal/seal-key.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo, Command } from '../io.ts';

const USAGE = `Usage:
  ztmesh seal FILE [--out PATH] [--force]      seal FILE into FILE.sealed (or PATH); FILE itself is left as is
  ztmesh seal rotate FILE... (--new-key-file F | --new-key BASE64)
                                               re-wrap each file's data key with the new key (all or none)
The current key comes from ZTMESH_SEAL_KEY (base64, 32 bytes) or --seal-key-file F (newest key first).
`;

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function sealOne(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { out: { type: 'string' }, force: { type: 'boolean' }, 'seal-key-file': { type: 'string' } }, true);
  if (positionals.length !== 1) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `seal takes exactly one FILE\n${USAGE}`);
  const file = positionals[0]!;
  const out = values.out ?? `${file}.sealed`;
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  if (!values.force && (await exists(out))) {
    throw new MeshError('ZTMESH_SEAL_IO', `${out} exists; refusing to overwrite it (pass --force)`, { details: { file: out } });
  }
  const plaintext = await readFileOrFail(file);
  try {
    await writeFileAtomic(out, seal(plaintext, ring.primary));
  } finally {
    plaintext.fill(0);
  }
  io.stderr.write(`sealed ${file} -> ${out} (key id ${ring.primary.id})\n`);
  return 0;
}

async function rotate(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'new-key-file': { type: 'string' }, 'new-key': { type: 'string' }, 'seal-key-file': { type: 'string' } }, true);
  if (positionals.length === 0) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `seal rotate needs at least one FILE\n${USAGE}`);
  if ((values['new-key-file'] === undefined) === (values['new-key'] === undefined)) {
    throw new MeshError('ZTMESH_CLI_BAD_ARGS', 'seal rotate needs exactly one of --new-key-file or --new-key');
  }
  const next: SealKey = values['new-key'] !== undefined ? sealKeyFromBase64(values['new-key'], '--new-key') : readSealKeyFile(requireFlag(values['new-key-file'], 'new-key-file')).primary;
  const old = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  // The new key reads too, so re-running a rotation that was interrupted is harmless.
  const ring = keyRing([...old.keys, next]);
  // Re-wrap everything in memory first: one bad file (wrong key, tampered) and nothing is written.
  const rotated: { file: string; data: Buffer }[] = [];
  for (const file of positionals) rotated.push({ file, data: rewrap(await readFileOrFail(file), ring, next, file) });
  for (const { file, data } of rotated) await writeFileAtomic(file, data);
  io.stderr.write(`re-wrapped ${rotated.length} file(s) with key id ${next.id}\n`);
  return 0;
}

/** `ztmesh seal FILE` and `ztmesh seal rotate FILE...`. */
export const run: Command = async (argv, io) => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  return argv[0] === 'rotate' ? rotate(argv.slice(1), io) : sealOne(argv, io);
};
