import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MeshError } from '../errors/mesh-error.ts';
import type { SealKey, SealKeyRing } from './seal-key.ts';

/*
 * Sealed envelope, format version 1 (binary, all lengths fixed):
 *
 *   offset size
 *   0      6    magic "ZTSEAL"
 *   6      1    version (1)
 *   7      8    KEK id (first 8 bytes of SHA-256 of the KEK)
 *   15     12   wrap IV
 *   27     32   wrapped data key (AES-256-GCM under the KEK; AAD = bytes 0..15)
 *   59     16   wrap tag
 *   75     12   data IV
 *   87     16   data tag
 *   103    ...  ciphertext (AES-256-GCM under the data key; AAD = bytes 0..7)
 *
 * A fresh data key and fresh IVs per object. The data AAD covers only magic and version, so a
 * rotation re-wraps the data key (new KEK id, IV, wrapped key, tag) without touching the data.
 */
const MAGIC = Buffer.from('ZTSEAL', 'ascii');
export const SEAL_FORMAT_VERSION = 1;
const KID = 7;
const WRAP_IV = 15;
const WRAPPED = 27;
const WRAP_TAG = 59;
const DATA_IV = 75;
const DATA_TAG = 87;
export const SEAL_HEADER_BYTES = 103;

function corrupt(source: string, reason: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_SEAL_CORRUPT', `${source}: ${reason}`, { details: { source, reason }, ...(cause === undefined ? {} : { cause }) });
}

function wrapKey(dataKey: Buffer, kek: SealKey, header: Buffer): void {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
  Buffer.from(kek.id, 'hex').copy(header, KID);
  cipher.setAAD(header.subarray(0, WRAP_IV));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  iv.copy(header, WRAP_IV);
  wrapped.copy(header, WRAPPED);
  cipher.getAuthTag().copy(header, WRAP_TAG);
}

export function isSealed(data: Uint8Array): boolean {
  return data.length >= MAGIC.length && MAGIC.equals(Buffer.from(data.subarray(0, MAGIC.length)));
}

/** Seals `plaintext` under the ring's primary KEK (or the given key). */
export function seal(plaintext: Uint8Array, kek: SealKey): Buffer {
  const header = Buffer.alloc(SEAL_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[6] = SEAL_FORMAT_VERSION;
  const dataKey = randomBytes(32);
  wrapKey(dataKey, kek, header);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(header.subarray(0, KID));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  iv.copy(header, DATA_IV);
  cipher.getAuthTag().copy(header, DATA_TAG);
  dataKey.fill(0);
  return Buffer.concat([header, ciphertext]);
}

function checkHeader(sealed: Uint8Array, source: string): Buffer {
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (!isSealed(buf)) throw corrupt(source, 'not a ztmesh sealed file (bad magic)');
  if (buf.length < SEAL_HEADER_BYTES) throw corrupt(source, 'truncated sealed file');
  if (buf[6] !== SEAL_FORMAT_VERSION) {
    throw new MeshError('ZTMESH_SEAL_UNSUPPORTED_VERSION', `${source}: sealed format version ${buf[6]} is not supported`, { details: { source, version: buf[6] } });
  }
  return buf;
}

/** The id of the KEK a sealed object was written with. */
export function sealedKeyId(sealed: Uint8Array, source: string): string {
  return checkHeader(sealed, source).subarray(KID, WRAP_IV).toString('hex');
}

function unwrapKey(buf: Buffer, ring: SealKeyRing, source: string): Buffer {
  const kid = buf.subarray(KID, WRAP_IV).toString('hex');
  const kek = ring.keys.find((k) => k.id === kid);
  if (kek === undefined) {
    throw new MeshError('ZTMESH_SEAL_WRONG_KEY', `${source}: sealed with key id ${kid}, which is not among the seal keys given`, { details: { source, keyId: kid } });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, buf.subarray(WRAP_IV, WRAPPED));
    decipher.setAAD(buf.subarray(0, WRAP_IV));
    decipher.setAuthTag(buf.subarray(WRAP_TAG, DATA_IV));
    return Buffer.concat([decipher.update(buf.subarray(WRAPPED, WRAP_TAG)), decipher.final()]);
  } catch (err) {
    throw corrupt(source, 'the wrapped data key does not authenticate (tampered header)', err);
  }
}

/** Opens a sealed object; `source` (a file name) is named in every error. */
export function unseal(sealed: Uint8Array, ring: SealKeyRing, source: string): Buffer {
  const buf = checkHeader(sealed, source);
  const dataKey = unwrapKey(buf, ring, source);
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, buf.subarray(DATA_IV, DATA_TAG));
    decipher.setAAD(buf.subarray(0, KID));
    decipher.setAuthTag(buf.subarray(DATA_TAG, SEAL_HEADER_BYTES));
    return Buffer.concat([decipher.update(buf.subarray(SEAL_HEADER_BYTES)), decipher.final()]);
  } catch (err) {
    throw corrupt(source, 'the data does not authenticate (tampered or truncated)', err);
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps the data key under `next` (after authenticating the whole object with the ring); the data is unchanged. */
export function rewrap(sealed: Uint8Array, ring: SealKeyRing, next: SealKey, source: string): Buffer {
  unseal(sealed, ring, source).fill(0);
  const buf = Buffer.from(checkHeader(sealed, source));
  const dataKey = unwrapKey(buf, ring, source);
  try {
    wrapKey(dataKey, next, buf);
  } finally {
    dataKey.fill(0);
  }
  return buf;
}
