import { createPrivateKey, createPublicKey, KeyObject, webcrypto } from 'node:crypto';
import { MeshError } from '../../core/errors/mesh-error.ts';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A fresh ECDSA P-256 key pair (WebCrypto). Extractable so the CA can seal its own keys. */
export async function generateP256(extractable = true): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, extractable, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

/** True for an ECDSA key on P-256 (OpenSSL's prime256v1). */
export function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** Imports a PEM private key (PKCS#8 or SEC1), refusing anything but ECDSA P-256; `what` names it in errors. */
export async function importP256PrivateKey(pem: string | Buffer, what: string): Promise<webcrypto.CryptoKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', `${what} is not a PEM private key`, { cause: err, details: { what } });
  }
  return keyObjectToCryptoKey(key, what);
}

async function keyObjectToCryptoKey(key: KeyObject, what: string): Promise<webcrypto.CryptoKey> {
  if (!isP256(key)) throw new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', `${what} is not an ECDSA P-256 key`, { details: { what } });
  return key.toCryptoKey(EC_P256, true, ['sign']);
}

/** PKCS#8 PEM of a private key: only ever handed to the sealer, or to `ca mint --key` on explicit request. */
export function exportPkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Public half of a DER SubjectPublicKeyInfo, as a WebCrypto key for ECDSA P-256. */
export async function importP256PublicKey(spki: Uint8Array): Promise<webcrypto.CryptoKey> {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (!isP256(key)) {
    throw new MeshError('ZTMESH_CA_UNSUPPORTED_KEY', 'only ECDSA P-256 public keys are accepted');
  }
  return key.toCryptoKey(EC_P256, true, ['verify']);
}
