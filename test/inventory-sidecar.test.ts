import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { ApiInventory } from '../sidecar/inventory/api-inventory.ts';
import { inventoryHandler } from '../sidecar/inventory/inventory-handler.ts';
import { composeObservers } from '../sidecar/telemetry/compose-observers.ts';
import { noopObserver } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { testAuthorizer } from './fixtures/pki-pair.ts';
import { TestPki, type IssuedLeaf } from './fixtures/pki-mesh.ts';

// Real traffic through a real inbound sidecar (mTLS, HTTP/1.1 parser, authorization) into an app;
// the inventory is read back over HTTP from an admin-style server and through `ztmesh inventory`.

const TD = 'example.org';
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const SCANNER = `spiffe://${TD}/ns/shop/sa/compromised`;
const MAX_ROUTES = 40;

let app: Server;
let admin: Server;
let adminAddr: string;
let inbound: ProxyServer;
let pki: TestPki;
const inventory = new ApiInventory({ service: 'orders', maxRoutes: MAX_ROUTES, declared: [{ method: 'GET', route: '/users/{userId}' }, { method: 'GET', route: '/health' }] });
const agents: Agent[] = [];

async function agentFor(sa: string): Promise<Agent> {
  const leaf: IssuedLeaf = await pki.svid('shop', sa);
  const agent = new Agent({ keepAlive: true, maxSockets: 4, cert: leaf.certChainPem, key: leaf.keyPem, ca: pki.bundlePem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  agents.push(agent);
  return agent;
}

function call(agent: Agent, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: inbound.address.port, method, path, agent, headers: { host: 'orders' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => { f(String(chunk)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: new PassThrough(), env: {}, cwd: process.cwd() });
  return { code, out, err };
}

beforeAll(async () => {
  pki = await TestPki.create(TD);
  const server = await pki.svid('shop', 'orders');
  const creds = new CredentialsRef();
  creds.swap(buildCredentials({ certChainPem: server.certChainPem, privateKey: server.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  app = createServer((req, res) => {
    const url = req.url ?? '/';
    if (/^\/users\/\d+$/.test(url) || url === '/users/me') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 1, email: 'a@example.com' }));
    } else if (url === '/orders' && req.method === 'POST') {
      res.writeHead(201).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  admin = createServer(inventoryHandler(inventory));
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  adminAddr = `127.0.0.1:${(admin.address() as { port: number }).port}`;
  inbound = await startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
    tcpPorts: new Set(),
    credentials: creds,
    trustDomains: new Set([TD]),
    authorizer: () => testAuthorizer(() => true),
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer: composeObservers(noopObserver, inventory),
    metrics: new Registry(),
    logger: silentLogger(),
  });

  const frontend = await agentFor('frontend');
  for (let i = 1; i <= 20; i++) expect(await call(frontend, 'GET', `/users/${i * 7919}`)).toBe(200);
  expect(await call(frontend, 'GET', '/users/me')).toBe(200);
  expect(await call(frontend, 'POST', '/orders')).toBe(201);
  // A scanner: random and well-known probe paths, far more than the route cap.
  const scanner = await agentFor('compromised');
  let seed = 7;
  const rand = (): string => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed.toString(36);
  };
  const probes = ['/.env', '/.git/config', '/wp-login.php', '/admin', '/phpmyadmin/index.php', '/actuator/env'];
  const paths = [...probes, ...Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `/${rand()}.php` : i % 3 === 1 ? `/api/${rand()}/${rand()}` : `/backup/${rand()}${rand()}${rand()}.zip`))];
  await Promise.all([0, 1, 2, 3].map(async (lane) => {
    for (let i = lane; i < paths.length; i += 4) await call(scanner, 'GET', paths[i]!);
  }));
});

afterAll(async () => {
  for (const a of agents) a.destroy();
  await inbound?.close();
  await new Promise<void>((r) => admin?.close(() => r()));
  await new Promise<void>((r) => app?.close(() => r()));
});

describe('inventory of real traffic through an inbound sidecar', () => {
  it('records routes as templates with callers, counts and status classes', () => {
    const snap = inventory.snapshot();
    const users = snap.apis.find((a) => a.method === 'GET' && a.route === '/users/{id}')!;
    expect(users.count).toBe(20);
    expect(users.callers).toEqual([FRONTEND]);
    expect(users.statusClasses).toEqual({ '2xx': 20 });
    expect(users.declared).toBe(true);
    const orders = snap.apis.find((a) => a.method === 'POST' && a.route === '/orders')!;
    expect(orders.declared).toBe(false); // a shadow API
    expect(snap.zombies).toEqual([{ method: 'GET', route: '/health' }]);
  });

  it('holds the route cap under a scanner burst, counts the overflow, and keeps templates readable', () => {
    const snap = inventory.snapshot();
    expect(inventory.size).toBeLessThanOrEqual(MAX_ROUTES);
    expect(snap.apis.length).toBeLessThanOrEqual(MAX_ROUTES);
    expect(snap.overflow).toBeGreaterThan(250);
    for (const a of snap.apis) {
      expect(a.route.length).toBeLessThan(80);
      expect(a.route).toMatch(/^\/[\x21-\x7e]*$/);
    }
    const scanned = snap.apis.filter((a) => a.callers.includes(SCANNER));
    expect(scanned.every((a) => a.statusClasses['4xx'] === a.count)).toBe(true);
  });

  it('`ztmesh inventory --json` reads the admin port and prints the documented shape', async () => {
    const { code, out, err } = await cli(['inventory', '--from', adminAddr, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { apis: Record<string, unknown>[]; zombies: unknown[] };
    const users = report.apis.find((a) => a['route'] === '/users/{id}')!;
    // The documented keys (extra ones, such as sensitiveCallers, are allowed).
    expect(Object.keys(users)).toEqual(expect.arrayContaining(['callers', 'count', 'declared', 'lastSeen', 'method', 'responseFields', 'route', 'sensitive', 'service']));
    expect(users).toMatchObject({ service: 'orders', method: 'GET', callers: [FRONTEND], count: 20, declared: true, responseFields: { id: 'number', email: 'string' }, sensitive: ['email'] });
    expect(report.zombies).toEqual([{ service: 'orders', method: 'GET', route: '/health' }]);
  });

  it('`ztmesh inventory` prints a table, and --openapi a document of the observed routes', async () => {
    const table = await cli(['inventory', '--from', adminAddr]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^SERVICE\s+METHOD\s+ROUTE/);
    expect(table.out).toMatch(/orders\s+GET\s+\/users\/\{id\}\s+spiffe:\/\/example\.org\/ns\/shop\/sa\/frontend\s+20 /);
    expect(table.out).toContain('zombie: orders GET /health');
    const doc = await cli(['inventory', '--from', adminAddr, '--openapi', 'orders']);
    expect(doc.code).toBe(0);
    const openapi = JSON.parse(doc.out) as { openapi: string; paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(openapi.paths['/users/{id}']!['get']!.parameters).toHaveLength(1);
    expect(openapi.paths['/orders']!['post']).toBeDefined();
  });

  it('reports an unreachable admin port and an unknown service by code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await cli(['inventory', '--from', `127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.err).toContain('ZTMESH_INVENTORY_UNREACHABLE');
    const unknown = await cli(['inventory', '--from', adminAddr, '--openapi', 'nope']);
    expect(unknown.err).toContain('ZTMESH_INVENTORY_UNKNOWN_SERVICE');
  });

  it('`ztmesh policy suggest` writes policies that, through `policy explain`, allow every observed call and deny an unseen caller', async () => {
    const suggested = await cli(['policy', 'suggest', '--from', adminAddr, '--namespace', 'shop']);
    expect(suggested.err).toBe('');
    expect(suggested.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-suggest-'));
    try {
      const file = join(dir, 'suggested.yaml');
      writeFileSync(file, suggested.out);
      expect((await cli(['policy', 'check', file])).code).toBe(0);
      const explain = async (principal: string, method: string, path: string): Promise<string> => {
        const r = await cli(['policy', 'explain', '--policy', file, '--namespace', 'shop', '--labels', 'app=orders', '--principal', principal, '--method', method, '--path', path, '--json']);
        expect(r.err).toBe('');
        return (JSON.parse(r.out) as { decision: string }).decision;
      };
      expect(await explain(FRONTEND, 'GET', '/users/7919')).toBe('ALLOW');
      expect(await explain(FRONTEND, 'GET', '/users/123456')).toBe('ALLOW');
      expect(await explain(FRONTEND, 'GET', '/users/me')).toBe('ALLOW');
      expect(await explain(FRONTEND, 'POST', '/orders')).toBe('ALLOW');
      expect(await explain(`spiffe://${TD}/ns/shop/sa/never-seen`, 'GET', '/users/17')).toBe('DENY');
      expect(await explain(FRONTEND, 'DELETE', '/users/17')).toBe('DENY');
      // The scanner's probes all answered 404: no API, so nothing of it is allowed.
      expect(await explain(SCANNER, 'GET', '/.env')).toBe('DENY');
      expect(suggested.out).toContain('never answered with success');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a non-snapshot answer with ZTMESH_INVENTORY_BAD_SNAPSHOT', async () => {
    const liar = createServer((_req, res) => res.end('{"apis":"nope"}'));
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    try {
      const r = await cli(['inventory', '--from', `127.0.0.1:${(liar.address() as { port: number }).port}`, '--json']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('ZTMESH_INVENTORY_BAD_SNAPSHOT');
    } finally {
      await new Promise<void>((r) => liar.close(() => r()));
    }
  });
});
