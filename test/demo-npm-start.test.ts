import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortsFree } from '../demo/port-check.ts';
import { demoTopology, listPorts } from '../demo/topology.ts';

// Drives the local mesh the way docs/demo.md says (`npm start` runs `node bin/ztmesh.js demo`),
// shifted by a port offset so it can run beside a user's demo on the documented ports (and beside
// another run of this test): the first offset, from a random start, whose ports are all free.
async function freeOffset(): Promise<number> {
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 30; i++) {
    const offset = 3000 + ((start + i) % 100) * 100;
    const free = await assertPortsFree(listPorts(demoTopology(offset))).then(() => true, () => false);
    if (free) return offset;
  }
  throw new Error('no free port offset for the demo');
}
let OFFSET = 0;
let FRONTEND = 0;
const BIN = fileURLToPath(new URL('../bin/ztmesh.js', import.meta.url));
const ID = (name: string) => `spiffe://example.org/ns/shop/sa/${name}`;

function get(path: string, accept: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: FRONTEND, path, headers: { accept }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start: the local demo mesh', () => {
  let stateDir: string;
  let demo: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: string | null }>;

  beforeAll(async () => {
    OFFSET = await freeOffset();
    FRONTEND = 8080 + OFFSET;
    stateDir = join(await mkdtemp(join(tmpdir(), 'ztmesh-demo-test-')), 'state');
    demo = spawn(process.execPath, [BIN, 'demo', '--state-dir', stateDir, '--port-offset', String(OFFSET)], { stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
    demo.stdout!.setEncoding('utf8');
    demo.stderr!.setEncoding('utf8');
    demo.stderr!.on('data', (c: string) => (output += c));
    await new Promise<void>((resolve, reject) => {
      demo.stdout!.on('data', (c: string) => {
        output += c;
        if (output.includes('the mesh is up')) resolve();
      });
      void exited.then(() => reject(new Error(`demo exited during start-up:\n${output}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await exited;
    }
    await rm(join(stateDir, '..'), { recursive: true, force: true });
  });

  it('frontend answers JSON: orders allowed (and it charged payments), payments denied, with identities', async () => {
    const res = await get('/', 'application/json');
    expect(res.status, output).toBe(200);
    const body = JSON.parse(res.body) as { calls: Record<string, unknown>[] };
    const [orders, payments] = body.calls;
    expect(orders).toMatchObject({ to: 'orders', method: 'GET', path: '/orders', status: 200, identity: ID('orders'), caller: ID('frontend'), error: null });
    expect(orders!['calls']).toEqual([expect.objectContaining({ to: 'payments', method: 'POST', path: '/charge', status: 200, identity: ID('payments'), caller: ID('orders') })]);
    expect(payments).toMatchObject({ to: 'payments', method: 'POST', path: '/charge', status: 403, identity: null });
    expect(payments!['error']).toMatch(/^ZTMESH_[A-Z_]+$/);
    expect(typeof orders!['latencyMs']).toBe('number');
  });

  it('frontend answers a browser with the HTML page', async () => {
    const res = await get('/', 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.body).toContain('403 denied');
    expect(res.body).toContain(ID('payments'));
  });

  it('the terminal shows one readable line per decision', async () => {
    // The audit lines arrive through the sidecars' stdout and the demo's: wait for the last one.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (/^DENY +frontend -> payments +POST \/charge/m.test(output)) {
          demo.stdout!.off('data', check);
          resolve();
        }
      };
      demo.stdout!.on('data', check);
      check();
    });
    expect(output).toMatch(/^ALLOW +frontend -> orders +GET \/orders/m);
    expect(output).toMatch(/^ALLOW +orders -> payments +POST \/charge/m);
    expect(output).not.toMatch(/^\{"level"/m);
  });

  it('Ctrl-C stops every child and exits 0', async () => {
    const children = await childrenOf(demo.pid!);
    expect(children.length, output).toBe(4); // the CA and three sidecars
    demo.kill('SIGINT');
    const exit = await exited;
    expect(exit, output).toEqual({ code: 0, signal: null });
    expect(children.filter(alive)).toEqual([]);
    expect(output).toContain('ztmesh demo: stopped');
  });
});
