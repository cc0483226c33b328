import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/io.ts';

// `ztmesh demo` refuses clearly, before starting anything, when it cannot run.
const OFFSET = 4000;

async function runDemo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { ...process.env }, cwd: process.cwd() };
  const code = await main(['demo', ...args], io);
  return { code, stdout: out, stderr: err };
}

describe('ztmesh demo refuses to start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztmesh-demo-bad-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when a port is taken, naming it and what it is for', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(8081 + OFFSET, '127.0.0.1', resolve));
    try {
      const res = await runDemo(['--port-offset', String(OFFSET), '--state-dir', join(dir, 'ports')]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('ZTMESH_DEMO_PORT_IN_USE');
      expect(res.stderr).toContain(`127.0.0.1:${8081 + OFFSET} (orders app)`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('when the chosen state directory is not empty', async () => {
    const state = join(dir, 'used');
    await rm(state, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(state));
    await writeFile(join(state, 'something'), 'x');
    const res = await runDemo(['--port-offset', String(OFFSET), '--state-dir', state]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ZTMESH_DEMO_BAD_STATE_DIR');
  });

  it('on a bad port offset', async () => {
    const res = await runDemo(['--port-offset', '99999']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('ZTMESH_CLI_BAD_ARGS');
  });
});
