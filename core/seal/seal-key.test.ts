import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../errors/mesh-error.ts';
import { loadSealKeyRing, readSealKeyFile, sealKeyFromBase64, sealKeyId } from './seal-key.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('seal keys', () => {
  const a = randomBytes(32).toString('base64');
  const b = randomBytes(32).toString('base64');

  it('key id is the first 8 bytes of SHA-256, hex', () => {
    expect(sealKeyFromBase64(a, 'x').id).toMatch(/^[0-9a-f]{16}$/);
    expect(sealKeyId(Buffer.from(a, 'base64'))).toBe(sealKeyFromBase64(a, 'x').id);
  });

  it('refuses keys that are not base64 of exactly 32 bytes, without echoing them', () => {
    for (const bad of ['', 'not base64!!', randomBytes(31).toString('base64'), randomBytes(33).toString('base64')]) {
      expect(codeOf(() => sealKeyFromBase64(bad, 'ZTMESH_SEAL_KEY'))).toBe('ZTMESH_SEAL_BAD_KEY');
    }
    const secret = randomBytes(16).toString('base64');
    try {
      sealKeyFromBase64(secret, 'ZTMESH_SEAL_KEY');
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('reads a key file newest first, with comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-seal-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `# rotated 2026-01-01\n${b}\n\n${a}\n`);
    const ring = readSealKeyFile(file);
    expect(ring.primary.id).toBe(sealKeyFromBase64(b, 'x').id);
    expect(ring.keys.map((k) => k.id)).toEqual([sealKeyFromBase64(b, 'x').id, sealKeyFromBase64(a, 'x').id]);
    writeFileSync(file, `${a}\nnope\n`);
    expect(codeOf(() => readSealKeyFile(file))).toBe('ZTMESH_SEAL_BAD_KEY');
    writeFileSync(file, '# empty\n');
    expect(codeOf(() => readSealKeyFile(file))).toBe('ZTMESH_SEAL_BAD_KEY');
    expect(codeOf(() => readSealKeyFile(join(dir, 'missing')))).toBe('ZTMESH_SEAL_BAD_KEY');
  });

  it('takes the key from ZTMESH_SEAL_KEY, and requires one', () => {
    expect(loadSealKeyRing({ env: { ZTMESH_SEAL_KEY: a } }).primary.id).toBe(sealKeyFromBase64(a, 'x').id);
    expect(codeOf(() => loadSealKeyRing({ env: {} }))).toBe('ZTMESH_SEAL_NO_KEY');
  });

  it('a key file takes precedence, and the env key still reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-seal-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `${b}\n`);
    const ring = loadSealKeyRing({ env: { ZTMESH_SEAL_KEY: a }, keyFile: file });
    expect(ring.primary.id).toBe(sealKeyFromBase64(b, 'x').id);
    expect(ring.keys).toHaveLength(2);
  });
});
