import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MeshError } from '../errors/mesh-error.ts';
import { seal, unseal } from './envelope.ts';
import type { SealKey, SealKeyRing } from './seal-key.ts';

function ioError(file: string, action: string, err: unknown): MeshError {
  return new MeshError('ZTMESH_SEAL_IO', `cannot ${action} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err, details: { file } });
}

/**
 * Writes `data` to `file` atomically: a temp file beside it (mode 0600 by default), fsynced, then
 * renamed over. On any error the temp file is removed and `file` is untouched.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { mode, flag: 'wx', flush: true });
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw ioError(file, 'write', err);
  }
}

export async function readFileOrFail(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw ioError(file, 'read', err);
  }
}

/** Seals `plaintext` under `kek` and writes it atomically to `file`. */
export async function writeSealedFile(file: string, plaintext: Uint8Array | string, kek: SealKey): Promise<void> {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  await writeFileAtomic(file, seal(data, kek));
}

/** Reads and unseals `file` with any key of the ring; errors name the file. */
export async function readSealedFile(file: string, ring: SealKeyRing): Promise<Buffer> {
  return unseal(await readFileOrFail(file), ring, file);
}
