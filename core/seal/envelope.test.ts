import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../errors/mesh-error.ts';
import { isSealed, rewrap, SEAL_HEADER_BYTES, seal, sealedKeyId, unseal } from './envelope.ts';
import { keyRing, sealKeyFromBase64 } from './seal-key.ts';

const newKey = () => sealKeyFromBase64(randomBytes(32).toString('base64'), 'test');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('sealed envelope', () => {
  const kek = newKey();
  const ring = keyRing([kek]);
  const plaintext = Buffer.from('-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n');

  it('round-trips and does not contain the plaintext', () => {
    const sealed = seal(plaintext, kek);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    expect(unseal(sealed, ring, 'f')).toEqual(plaintext);
    expect(sealedKeyId(sealed, 'f')).toBe(kek.id);
  });

  it('uses a fresh data key and IV per object', () => {
    expect(seal(plaintext, kek).equals(seal(plaintext, kek))).toBe(false);
  });

  it('seals empty input', () => {
    expect(unseal(seal(Buffer.alloc(0), kek), ring, 'f').length).toBe(0);
  });

  it('refuses a wrong key with ZTMESH_SEAL_WRONG_KEY naming the file', () => {
    const sealed = seal(plaintext, kek);
    let message = '';
    try {
      unseal(sealed, keyRing([newKey()]), '/x/secret.sealed');
    } catch (err) {
      message = (err as Error).message;
      expect(errorCode(err)).toBe('ZTMESH_SEAL_WRONG_KEY');
    }
    expect(message).toContain('/x/secret.sealed');
  });

  it('detects a tampered byte anywhere', () => {
    const sealed = seal(plaintext, kek);
    for (let i = 0; i < sealed.length; i++) {
      const copy = Buffer.from(sealed);
      copy[i] = copy[i]! ^ 0x01;
      expect(['ZTMESH_SEAL_CORRUPT', 'ZTMESH_SEAL_WRONG_KEY', 'ZTMESH_SEAL_UNSUPPORTED_VERSION']).toContain(codeOf(() => unseal(copy, ring, 'f')));
    }
  });

  it('detects truncation at every length', () => {
    const sealed = seal(plaintext, kek);
    for (let n = 0; n < sealed.length; n++) {
      expect(codeOf(() => unseal(sealed.subarray(0, n), ring, 'f'))).toBe('ZTMESH_SEAL_CORRUPT');
    }
  });

  it('refuses an unknown format version', () => {
    const sealed = seal(plaintext, kek);
    sealed[6] = 2;
    expect(codeOf(() => unseal(sealed, ring, 'f'))).toBe('ZTMESH_SEAL_UNSUPPORTED_VERSION');
  });

  it('refuses something that is not sealed', () => {
    expect(codeOf(() => unseal(Buffer.from('hello world'.repeat(20)), ring, 'f'))).toBe('ZTMESH_SEAL_CORRUPT');
  });

  it('rewrap moves to the new key, keeps the data, and the old key no longer opens it', () => {
    const next = newKey();
    const sealed = seal(plaintext, kek);
    const rotated = rewrap(sealed, ring, next, 'f');
    expect(rotated.subarray(SEAL_HEADER_BYTES).equals(sealed.subarray(SEAL_HEADER_BYTES))).toBe(true);
    expect(sealedKeyId(rotated, 'f')).toBe(next.id);
    expect(unseal(rotated, keyRing([next]), 'f')).toEqual(plaintext);
    expect(codeOf(() => unseal(rotated, ring, 'f'))).toBe('ZTMESH_SEAL_WRONG_KEY');
    // A ring holding both reads old and new files.
    const both = keyRing([next, kek]);
    expect(unseal(sealed, both, 'f')).toEqual(plaintext);
    expect(unseal(rotated, both, 'f')).toEqual(plaintext);
  });

  it('rewrap refuses a tampered object', () => {
    const sealed = seal(plaintext, kek);
    sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 0x80;
    expect(codeOf(() => rewrap(sealed, ring, newKey(), 'f'))).toBe('ZTMESH_SEAL_CORRUPT');
  });
});
