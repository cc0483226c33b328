import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.ts';
import type { CliIo } from '../io.ts';

function capture(env: NodeJS.ProcessEnv): { io: CliIo; out: () => Buffer; err: () => string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) => new Writable({ write(chunk: Buffer, _e, cb) { into.push(Buffer.from(chunk)); cb(); } });
  return {
    io: { stdout: sink(out), stderr: sink(err), stdin: new PassThrough(), env, cwd: process.cwd() },
    out: () => Buffer.concat(out),
    err: () => Buffer.concat(err).toString('utf8'),
  };
}

const key = () => randomBytes(32).toString('base64');

describe('ztmesh seal / unseal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-seal-cli-'));
  const secret = Buffer.from('-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n');

  it('seals FILE into FILE.sealed and unseals it to stdout', async () => {
    const file = join(dir, 'a.pem');
    writeFileSync(file, secret);
    const env = { ZTMESH_SEAL_KEY: key() };
    expect(await main(['seal', file], capture(env).io)).toBe(0);
    expect(readFileSync(`${file}.sealed`).includes('PRIVATE KEY')).toBe(false);
    const c = capture(env);
    expect(await main(['unseal', `${file}.sealed`], c.io)).toBe(0);
    expect(c.out().equals(secret)).toBe(true);
  });

  it('refuses to overwrite an existing output unless --force', async () => {
    const file = join(dir, 'b.pem');
    writeFileSync(file, secret);
    writeFileSync(`${file}.sealed`, 'keep me');
    const env = { ZTMESH_SEAL_KEY: key() };
    const c = capture(env);
    expect(await main(['seal', file], c.io)).toBe(1);
    expect(c.err()).toContain('ZTMESH_SEAL_IO');
    expect(readFileSync(`${file}.sealed`, 'utf8')).toBe('keep me');
    expect(await main(['seal', file, '--force'], capture(env).io)).toBe(0);
  });

  it('no key, wrong key, tampered byte, truncated file: a coded error naming the file, nothing printed', async () => {
    const file = join(dir, 'c.pem');
    writeFileSync(file, secret);
    const env = { ZTMESH_SEAL_KEY: key() };
    await main(['seal', file], capture(env).io);
    const sealed = readFileSync(`${file}.sealed`);
    const cases: [NodeJS.ProcessEnv, Buffer, string][] = [
      [{}, sealed, 'ZTMESH_SEAL_NO_KEY'],
      [{ ZTMESH_SEAL_KEY: key() }, sealed, 'ZTMESH_SEAL_WRONG_KEY'],
      [env, Buffer.concat([sealed.subarray(0, 120), Buffer.from([sealed[120]! ^ 1]), sealed.subarray(121)]), 'ZTMESH_SEAL_CORRUPT'],
      [env, sealed.subarray(0, sealed.length - 3), 'ZTMESH_SEAL_CORRUPT'],
    ];
    for (const [caseEnv, bytes, code] of cases) {
      const target = join(dir, `case-${code}.sealed`);
      writeFileSync(target, bytes);
      const c = capture(caseEnv);
      expect(await main(['unseal', target], c.io)).toBe(1);
      expect(c.err()).toContain(code);
      if (code !== 'ZTMESH_SEAL_NO_KEY') expect(c.err()).toContain(target);
      expect(c.out().length).toBe(0);
    }
  });

  it('rotate re-wraps every file with the new key; the old key no longer opens them', async () => {
    const oldKey = key();
    const newKeyFile = join(dir, 'new.key');
    const newKey = key();
    writeFileSync(newKeyFile, `# new\n${newKey}\n`);
    const files = ['r1', 'r2'].map((n) => join(dir, n));
    for (const f of files) {
      writeFileSync(f, secret);
      await main(['seal', f], capture({ ZTMESH_SEAL_KEY: oldKey }).io);
    }
    expect(await main(['seal', 'rotate', ...files.map((f) => `${f}.sealed`), '--new-key-file', newKeyFile], capture({ ZTMESH_SEAL_KEY: oldKey }).io)).toBe(0);
    for (const f of files) {
      expect((await main(['unseal', `${f}.sealed`], capture({ ZTMESH_SEAL_KEY: oldKey }).io))).toBe(1);
      const c = capture({ ZTMESH_SEAL_KEY: newKey });
      expect(await main(['unseal', `${f}.sealed`], c.io)).toBe(0);
      expect(c.out().equals(secret)).toBe(true);
    }
  });

  it('rotate is all or none: one bad file and nothing is rewritten', async () => {
    const oldKey = key();
    const good = join(dir, 'g');
    writeFileSync(good, secret);
    await main(['seal', good], capture({ ZTMESH_SEAL_KEY: oldKey }).io);
    const before = readFileSync(`${good}.sealed`);
    const bad = join(dir, 'bad.sealed');
    writeFileSync(bad, before.subarray(0, 50));
    const c = capture({ ZTMESH_SEAL_KEY: oldKey });
    expect(await main(['seal', 'rotate', `${good}.sealed`, bad, '--new-key', key()], c.io)).toBe(1);
    expect(c.err()).toContain(bad);
    expect(readFileSync(`${good}.sealed`).equals(before)).toBe(true);
  });

  it('leaves no temp files behind', () => {
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
