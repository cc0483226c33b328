import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../errors/mesh-error.ts';
import { keyRing, sealKeyFromBase64 } from './seal-key.ts';
import { readSealedFile, writeFileAtomic, writeSealedFile } from './sealed-file.ts';

const kek = sealKeyFromBase64(randomBytes(32).toString('base64'), 'test');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('sealed files', () => {
  it('writes 0600, replaces atomically, and reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-sealed-file-'));
    const file = join(dir, 'x.sealed');
    await writeSealedFile(file, 'first', kek);
    await writeSealedFile(file, 'second', kek);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await readSealedFile(file, keyRing([kek]))).toString()).toBe('second');
    expect(readdirSync(dir)).toEqual(['x.sealed']);
  });

  it('a failed write leaves the target untouched and no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-sealed-file-'));
    const file = join(dir, 'keep');
    writeFileSync(file, 'original');
    expect(await codeOf(writeFileAtomic(join(dir, 'missing', 'x'), 'data'))).toBe('ZTMESH_SEAL_IO');
    // Renaming over a non-empty directory fails after the temp file was written: it is removed.
    const target = join(dir, 'a-dir');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), '');
    expect(await codeOf(writeFileAtomic(target, 'data'))).toBe('ZTMESH_SEAL_IO');
    expect(readFileSync(file, 'utf8')).toBe('original');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a missing file is ZTMESH_SEAL_IO naming it', async () => {
    expect(await codeOf(readSealedFile('/nonexistent/ztmesh.sealed', keyRing([kek])))).toBe('ZTMESH_SEAL_IO');
  });
});
