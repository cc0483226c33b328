import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.ts';

function io(): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: process.cwd() }, out: () => out, err: () => err };
}

describe('ztmesh dashboard', () => {
  it('prints its usage', async () => {
    const t = io();
    expect(await main(['dashboard', '--help'], t.io)).toBe(0);
    expect(t.out()).toContain('--token-file');
  });

  it.each([
    [['--listen', '0.0.0.0:0', '--from', '127.0.0.1:1'], 'ZTMESH_DASHBOARD_TOKEN_REQUIRED'],
    [['--listen', 'nonsense'], 'ZTMESH_DASHBOARD_BAD_ADDRESS'],
    [['--from', '127.0.0.1:15000,nope'], 'ZTMESH_DASHBOARD_BAD_ADDRESS'],
    [['--token-file', '/nonexistent/token'], 'ZTMESH_DASHBOARD_BAD_TOKEN_FILE'],
    [['--interval', 'soon'], 'ZTMESH_CONFIG_BAD_DURATION'],
    [['--bogus'], 'ZTMESH_CLI_BAD_ARGS'],
  ])('refuses %j with %s', async (args, code) => {
    const t = io();
    expect(await main(['dashboard', ...args], t.io)).not.toBe(0);
    expect(t.err()).toContain(code);
  });
});
