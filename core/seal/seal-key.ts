import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MeshError } from '../errors/mesh-error.ts';

/** A key-encryption key (KEK): 32 bytes for AES-256, and its id (hex of the first 8 bytes of its SHA-256). */
export interface SealKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The keys on hand: `primary` seals (the newest), all of `keys` unseal (so files sealed with an
 * older key still open during rotation).
 */
export interface SealKeyRing {
  readonly primary: SealKey;
  readonly keys: readonly SealKey[];
}

export const SEAL_KEY_ENV = 'ZTMESH_SEAL_KEY';

export function sealKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('hex');
}

/** Decodes base64 of exactly 32 bytes; `source` (an env var or file, never the value) is named in errors. */
export function sealKeyFromBase64(text: string, source: string): SealKey {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new MeshError('ZTMESH_SEAL_BAD_KEY', `${source}: a seal key must be base64 of exactly 32 bytes`, { details: { source } });
  }
  return Object.freeze({ id: sealKeyId(key), key });
}

/**
 * Reads a key file: one base64 key per line, newest first; blank lines and `#` comments are
 * ignored. In a cluster the same file is mounted from a Kubernetes Secret.
 */
export function readSealKeyFile(file: string): SealKeyRing {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_SEAL_BAD_KEY', `cannot read seal key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err, details: { file } });
  }
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, i }) => sealKeyFromBase64(line, `${file} line ${i + 1}`));
  if (keys.length === 0) throw new MeshError('ZTMESH_SEAL_BAD_KEY', `seal key file ${file} holds no key`, { details: { file } });
  return keyRing(keys);
}

export function keyRing(keys: readonly SealKey[]): SealKeyRing {
  const primary = keys[0];
  if (primary === undefined) throw new MeshError('ZTMESH_SEAL_NO_KEY', 'no seal key');
  return Object.freeze({ primary, keys: Object.freeze([...keys]) });
}

/**
 * The key ring from `--seal-key-file` if given, else from ZTMESH_SEAL_KEY; neither is an error.
 * When both are given the file's keys come first and the env key is added for reading.
 */
export function loadSealKeyRing(options: { env: NodeJS.ProcessEnv; keyFile?: string | undefined }): SealKeyRing {
  const envText = options.env[SEAL_KEY_ENV];
  const envKey = envText === undefined || envText === '' ? undefined : sealKeyFromBase64(envText, SEAL_KEY_ENV);
  if (options.keyFile !== undefined) {
    const ring = readSealKeyFile(options.keyFile);
    return envKey === undefined || ring.keys.some((k) => k.id === envKey.id) ? ring : keyRing([...ring.keys, envKey]);
  }
  if (envKey === undefined) {
    throw new MeshError('ZTMESH_SEAL_NO_KEY', `no seal key: set ${SEAL_KEY_ENV} (base64 of 32 bytes) or pass --seal-key-file`);
  }
  return keyRing([envKey]);
}
