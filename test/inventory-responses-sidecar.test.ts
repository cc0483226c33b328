import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../ca/testing/test-ca.ts';
import { main } from '../cli/main.ts';
import type { InventoryApi, InventorySnapshot } from '../sidecar/inventory/api-inventory.ts';
import { httpGet, killAll, metricValue, startSidecar, waitForReady, writeIdentityFiles, writeSidecarConfig, yaml, type SidecarAddresses } from './helpers/sidecar-process.ts';

// Real `ztmesh sidecar` processes in front of two apps — `users` (HTTP/1.1: Content-Length and
// chunked JSON) and `accounts` (h2c) — called over mTLS with client SVIDs of the test CA. The
// inventory read back from their admin ports (and through `ztmesh inventory`) must show the
// responses' top-level fields and sensitive flags; the clients must get every byte unchanged.

const TD = 'example.org';
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const BFF = `spiffe://${TD}/ns/shop/sa/mobile-bff`;
const SCANNER = `spiffe://${TD}/ns/shop/sa/compromised`;
const MAX_ROUTES = 25;
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-inventory-responses-'));

/** A JSON body larger than the sniffer's 64 KiB budget. */
const BIG = JSON.stringify({ id: 1, blob: 'x'.repeat(150_000), password: 'after-the-budget' });
const MALFORMED = '{"id": 1, "email": "a@b.c", oops}';

let users: { addr: SidecarAddresses };
let accounts: { addr: SidecarAddresses };
let h1app: Server;
let h2app: Http2Server;
const agents: Agent[] = [];
const sessions: ClientHttp2Session[] = [];
const leaves = new Map<string, { certChainPem: string; keyPem: string }>();
let bundlePem = '';

function h1usersApp(): Server {
  return createServer((req, res) => {
    const url = req.url ?? '/';
    if (/^\/users\/\d+$/.test(url)) {
      // Content-Length framing.
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ id: Number(url.slice(7)), email: 'u@example.com', name: 'U', address: { city: 'Z' }, tags: [] }));
    } else if (/^\/orders\/\d+$/.test(url)) {
      // Chunked framing, the JSON split mid-key and mid-string across chunks.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"orderId":7,"card');
      res.write('Number":"4111 1111","items":[{"sku":"a"}],"to');
      setImmediate(() => res.end('tal":12.5,"paid":true}'));
    } else if (url === '/broken') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(MALFORMED);
    } else if (url === '/broken-chunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":1,');
      res.end('"email":"x"');
    } else if (url === '/big') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(BIG);
    } else if (url === '/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('not really gzip');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
}

function h2accountsApp(): Http2Server {
  const app = createH2Server();
  app.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    stream.on('error', () => undefined);
    if (/^\/accounts\/\d+$/.test(path)) {
      stream.respond({ ':status': 200, 'content-type': 'application/vnd.bank+json' });
      stream.write('{"accountId":"A-1","iban":"DE89 3704","bal');
      setImmediate(() => stream.end('ance":10.5,"owner":{"name":"x"}}'));
    } else if (path === '/broken') {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end('{"accountId": [1, 2}');
    } else {
      stream.respond({ ':status': 404 });
      stream.end();
    }
  });
  return app;
}

async function startDestination(ca: TestCa, name: string, appPort: number, policyFile: string): Promise<{ addr: SidecarAddresses }> {
  const started = await startSidecar(writeSidecarConfig(dir, TD, name, {
    workload: { namespace: 'shop', name },
    identity: await writeIdentityFiles(ca, dir, name, `spiffe://${TD}/ns/shop/sa/${name}`),
    inbound: { listen: '127.0.0.1:0', app: `127.0.0.1:${appPort}` },
    outbound: { listen: '127.0.0.1:0' },
    policyFile,
    inventory: { maxRoutes: MAX_ROUTES },
  }, '1s'));
  await waitForReady(started.addr.admin);
  return { addr: started.addr };
}

function hostPort(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  return { host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)) };
}

function agentFor(caller: string): Agent {
  const leaf = leaves.get(caller)!;
  const agent = new Agent({ keepAlive: true, maxSockets: 4, cert: leaf.certChainPem, key: leaf.keyPem, ca: bundlePem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  agents.push(agent);
  return agent;
}

/** GET over HTTP/1.1 + mTLS straight to a sidecar's inbound; the raw body bytes. */
function h1get(agent: Agent, inbound: string, path: string): Promise<{ status: number; body: Buffer }> {
  const { host, port } = hostPort(inbound);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port, path, agent, headers: { host: 'users' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function h2get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path, ':authority': 'accounts' });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end();
  });
}

async function inventoryOf(admin: string): Promise<InventorySnapshot> {
  const res = await httpGet(admin, '/inventory');
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as InventorySnapshot;
}

/** Polls /inventory until the route has `count` completed requests (the scope ends just after the client has the response). */
async function api(admin: string, method: string, route: string, count: number): Promise<InventoryApi> {
  for (let tries = 0; ; tries++) {
    const found = (await inventoryOf(admin)).apis.find((a) => a.method === method && a.route === route);
    if (found !== undefined && found.count >= count) return found;
    if (tries > 200) throw new Error(`${method} ${route} never reached ${count} requests: ${JSON.stringify(found)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => { f(String(chunk)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: new PassThrough(), env: {}, cwd: process.cwd() });
  return { code, out, err };
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  const ca = await createTestCa({ trustDomain: TD });
  bundlePem = ca.bundlePem;
  for (const id of [FRONTEND, BFF, SCANNER]) leaves.set(id, await ca.mint({ spiffeId: id }));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, yaml({
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'shop-callers', namespace: 'shop' },
    spec: { rules: [{ from: [{ source: { principals: [FRONTEND, BFF, SCANNER] } }] }] },
  }));
  h1app = h1usersApp();
  h2app = h2accountsApp();
  await new Promise<void>((r) => h1app.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => h2app.listen(0, '127.0.0.1', r));
  [users, accounts] = await Promise.all([
    startDestination(ca, 'users', (h1app.address() as AddressInfo).port, policyFile),
    startDestination(ca, 'accounts', (h2app.address() as AddressInfo).port, policyFile),
  ]);
}, 120_000);

afterAll(async () => {
  for (const a of agents) a.destroy();
  for (const s of sessions) s.destroy();
  await killAll();
  await new Promise<void>((r) => h1app?.close(() => r()));
  await new Promise<void>((r) => h2app?.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('response facts in the inventory of real sidecar processes', () => {
  it('HTTP/1.1 Content-Length JSON: top-level fields and types, sensitive flags, and who received them', async () => {
    const frontend = agentFor(FRONTEND);
    const bff = agentFor(BFF);
    for (let i = 1; i <= 5; i++) expect((await h1get(frontend, users.addr.inbound, `/users/${i * 101}`)).status).toBe(200);
    expect((await h1get(bff, users.addr.inbound, '/users/9')).status).toBe(200);
    const a = await api(users.addr.admin, 'GET', '/users/{id}', 6);
    expect(a.responseFields).toEqual({ id: 'number', email: 'string', name: 'string', address: 'object', tags: 'array' });
    expect(a.sensitive).toEqual(['email']);
    expect(a.sensitiveCallers).toEqual([FRONTEND, BFF]);
    expect(a.responseContentTypes).toEqual(['application/json']);
  });

  it('HTTP/1.1 chunked JSON split mid-key: the sniffer sees de-chunked bytes', async () => {
    const res = await h1get(agentFor(FRONTEND), users.addr.inbound, '/orders/3');
    expect(res.body.toString()).toBe('{"orderId":7,"cardNumber":"4111 1111","items":[{"sku":"a"}],"total":12.5,"paid":true}');
    const a = await api(users.addr.admin, 'GET', '/orders/{id}', 1);
    expect(a.responseFields).toEqual({ orderId: 'number', cardNumber: 'string', items: 'array', total: 'number', paid: 'boolean' });
    expect(a.sensitive).toEqual(['cardNumber']);
  });

  it('HTTP/2 DATA frames of a +json response: fields and sensitive flags', async () => {
    const session = h2connect(`https://${accounts.addr.inbound}`, { cert: leaves.get(BFF)!.certChainPem, key: leaves.get(BFF)!.keyPem, ca: bundlePem, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    session.on('error', () => undefined);
    sessions.push(session);
    const res = await h2get(session, '/accounts/12');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"accountId":"A-1","iban":"DE89 3704","balance":10.5,"owner":{"name":"x"}}');
    const a = await api(accounts.addr.admin, 'GET', '/accounts/{id}', 1);
    expect(a.responseFields).toEqual({ accountId: 'string', iban: 'string', balance: 'number', owner: 'object' });
    expect(a.sensitive).toEqual(['iban']);
    expect(a.sensitiveCallers).toEqual([BFF]);
    expect(a.responseContentTypes).toEqual(['application/vnd.bank+json']);

    const broken = await h2get(session, '/broken');
    expect(broken.body.toString()).toBe('{"accountId": [1, 2}');
    expect((await api(accounts.addr.admin, 'GET', '/broken', 1)).malformedBodies).toBe(1);
  });

  it('a malformed or truncated JSON body is counted, and the client gets the bytes unchanged', async () => {
    const agent = agentFor(FRONTEND);
    const res = await h1get(agent, users.addr.inbound, '/broken');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(MALFORMED);
    const chunked = await h1get(agent, users.addr.inbound, '/broken-chunked');
    expect(chunked.body.toString()).toBe('{"id":1,"email":"x"');
    expect((await api(users.addr.admin, 'GET', '/broken', 1))).toMatchObject({ malformedBodies: 1, responseFields: {} });
    expect((await api(users.addr.admin, 'GET', '/broken-chunked', 1))).toMatchObject({ malformedBodies: 1, responseFields: {} });
    const metrics = (await httpGet(users.addr.admin, '/metrics')).body;
    expect(metricValue(metrics, 'ztmesh_inventory_json_sniffs_total{result="malformed"}')).toBe(1);
    expect(metricValue(metrics, 'ztmesh_inventory_json_sniffs_total{result="truncated"}')).toBe(1);
  });

  it('reads only a bounded prefix of a large body, which reaches the client byte for byte; encoded bodies are not read', async () => {
    const agent = agentFor(FRONTEND);
    const big = await h1get(agent, users.addr.inbound, '/big');
    expect(big.body.length).toBe(Buffer.byteLength(BIG));
    expect(sha(big.body)).toBe(sha(BIG));
    const a = await api(users.addr.admin, 'GET', '/big', 1);
    expect(a.responseFields).toEqual({ id: 'number', blob: 'string' }); // `password` lies past the 64 KiB budget
    expect((await h1get(agent, users.addr.inbound, '/gzip')).body.toString()).toBe('not really gzip');
    expect(await api(users.addr.admin, 'GET', '/gzip', 1)).toMatchObject({ responseFields: {}, malformedBodies: 0 });
    const metrics = (await httpGet(users.addr.admin, '/metrics')).body;
    expect(metricValue(metrics, 'ztmesh_inventory_json_sniffs_total{result="partial"}')).toBe(1);
  });

  it('a scanner-like burst of random paths keeps the route cap; 404 bodies add no fields', async () => {
    const scanner = agentFor(SCANNER);
    let seed = 11;
    const rand = (): string => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed.toString(36);
    };
    const paths = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? `/${rand()}.php` : `/api/${rand()}/${rand()}`));
    await Promise.all([0, 1, 2, 3].map(async (lane) => {
      for (let i = lane; i < paths.length; i += 4) expect((await h1get(scanner, users.addr.inbound, paths[i]!)).status).toBe(404);
    }));
    const snap = await inventoryOf(users.addr.admin);
    expect(snap.apis.length).toBeLessThanOrEqual(MAX_ROUTES);
    expect(snap.overflow).toBeGreaterThan(50);
    for (const a of snap.apis.filter((x) => x.callers.includes(SCANNER))) {
      expect(a.responseFields).toEqual({});
      expect(a.sensitiveCallers).not.toContain(SCANNER);
    }
  });

  it('`ztmesh inventory` shows fields, sensitive flags and receivers; --openapi has response schemas', async () => {
    const from = `${users.addr.admin},${accounts.addr.admin}`;
    const json = await cli(['inventory', '--from', from, '--json']);
    expect(json.err).toBe('');
    const report = JSON.parse(json.out) as { apis: Record<string, unknown>[] };
    const row = report.apis.find((a) => a['service'] === 'users' && a['route'] === '/users/{id}')!;
    for (const key of ['service', 'method', 'route', 'callers', 'count', 'lastSeen', 'responseFields', 'sensitive', 'declared']) expect(row).toHaveProperty(key);
    expect(row).toMatchObject({ method: 'GET', callers: [FRONTEND, BFF], count: 6, sensitive: ['email'], declared: false, responseFields: { email: 'string' } });
    expect(report.apis.find((a) => a['service'] === 'accounts' && a['route'] === '/accounts/{id}')).toMatchObject({ sensitive: ['iban'], sensitiveCallers: [BFF] });

    const table = await cli(['inventory', '--from', from]);
    expect(table.code).toBe(0);
    expect(table.out).toContain(`sensitive: users GET /users/{id} returns email to ${FRONTEND}, ${BFF}`);
    expect(table.out).toContain('sensitive: accounts GET /accounts/{id} returns iban to');
    expect(table.out).toContain('malformed: users GET /broken answered 1 malformed JSON bodies');

    const doc = await cli(['inventory', '--from', from, '--openapi', 'users']);
    const openapi = JSON.parse(doc.out) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> }> }>> };
    const schema = openapi.paths['/users/{id}']!['get']!.responses['2XX']!.content!['application/json']!.schema;
    expect(schema.properties['id']).toEqual({ type: 'number' });
    expect(schema.properties['email']).toEqual({ type: 'string', 'x-ztmesh-sensitive': true });
  });
});
