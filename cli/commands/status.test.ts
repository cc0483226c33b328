import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.ts';

describe('ztmesh status', () => {
  it('fails with ZTMESH_CONTROL_ADMIN_FAILED when the operator admin endpoint cannot be reached', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    // Port 1 on loopback: nothing listens there.
    const code = await main(['status', '--admin', '127.0.0.1:1'], { stdout: out, stderr: out, stdin: new PassThrough(), env: {}, cwd: '/' });
    expect(code).toBe(1);
    expect(text).toContain('ZTMESH_CONTROL_ADMIN_FAILED');
  });

  it('refuses unknown flags with exit 2', async () => {
    const out = new PassThrough();
    expect(await main(['status', '--bogus'], { stdout: out, stderr: out, stdin: new PassThrough(), env: {}, cwd: '/' })).toBe(2);
  });
});
