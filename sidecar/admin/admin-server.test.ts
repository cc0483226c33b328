import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa } from '../../ca/testing/test-ca.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { fakeBuildCredentials } from '../identity/fake-build-credentials.ts';
import type { Credentials } from '../tls/credentials.ts';
import { startAdminServer, type AdminServer, type Readiness } from './admin-server.ts';

let admin: AdminServer;
let app: Server;
let readiness: Readiness = { ready: false, missing: ['identity', 'policy'] };
let identity: Credentials | undefined;
const registry = new Registry();
registry.counter({ name: 'ztmesh_test_total', help: 'test' }).inc(3);

beforeAll(async () => {
  app = createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(200).end('app ok');
    else res.writeHead(500).end('app sick');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  admin = await startAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    readiness: () => readiness,
    registry,
    identity: () => identity,
    appProbes: new Map([
      ['app-readiness', { host: '127.0.0.1', port: appPort, path: '/healthz' }],
      ['app-liveness', { host: '127.0.0.1', port: appPort, path: '/broken' }],
      ['down', { host: '127.0.0.1', port: 1, path: '/' }],
    ]),
    logger: silentLogger(),
  });
});
afterAll(async () => {
  await admin.close();
  app.close();
});

function get(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: admin.address.port, path, method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes and collects the reply until the server closes. */
function raw(bytes: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const s = connect(admin.address.port, '127.0.0.1', () => s.write(bytes));
    let text = '';
    s.on('data', (c) => (text += c));
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
  });
}

describe('admin server', () => {
  it('answers /healthz always and /ready only when ready, listing what is missing', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/ready');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({ ready: false, missing: ['identity', 'policy'] });
    readiness = { ready: true, missing: [] };
    expect((await get('/ready')).status).toBe(200);
  });

  it('serves Prometheus text on /metrics', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('ztmesh_test_total 3');
  });

  it('proxies app probes and returns the app status', async () => {
    expect(await get('/app-health/app-readiness')).toMatchObject({ status: 200, body: 'app ok' });
    expect((await get('/app-health/app-liveness')).status).toBe(500);
    const down = await get('/app-health/down');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).error.code).toBe('ZTMESH_ADMIN_PROBE_FAILED');
    expect(JSON.parse((await get('/app-health/nope')).body).error.code).toBe('ZTMESH_ADMIN_NOT_FOUND');
  });

  it('shows the identity without its key', async () => {
    expect(JSON.parse((await get('/debug/identity')).body).error.code).toBe('ZTMESH_ADMIN_NO_IDENTITY');
    const ca = await createTestCa({ trustDomain: 'example.org' });
    const m = await ca.mint({ spiffeId: 'spiffe://example.org/ns/shop/sa/orders' });
    identity = fakeBuildCredentials({ certChainPem: m.certChainPem, privateKey: m.keyPem, bundlePem: ca.bundlePem, trustDomain: 'example.org' });
    const res = await get('/debug/identity');
    expect(JSON.parse(res.body)).toMatchObject({ spiffeId: 'spiffe://example.org/ns/shop/sa/orders', serial: m.issued.serial, expired: false });
    expect(res.body).not.toMatch(/PRIVATE KEY/);
  });

  it('refuses other methods, bodies and unknown paths with stable codes', async () => {
    expect(JSON.parse((await get('/ready', 'POST')).body).error.code).toBe('ZTMESH_ADMIN_METHOD_NOT_ALLOWED');
    expect((await get('/nope')).status).toBe(404);
    const reply = await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 2000\r\n\r\n${'x'.repeat(2000)}`);
    expect(reply).toMatch(/^HTTP\/1.1 413/);
    expect(reply).toContain('ZTMESH_ADMIN_BODY_TOO_LARGE');
  });

  it('answers malformed requests with 400 and keeps serving', async () => {
    const reply = await raw('GET / HTTP/1.1\r\nbad header\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect((await get('/healthz')).status).toBe(200);
  });
});
