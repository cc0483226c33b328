import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../core/errors/mesh-error.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { loadToken } from './access-control.ts';
import { startFakeAdminPort, type FakeAdminPort } from './fake-admin-port.ts';
import type { MeshView } from './mesh-view.ts';
import { startDashboard, type RunningDashboard } from './start-dashboard.ts';

const F = 'spiffe://example.org/ns/shop/sa/frontend';
const P = 'spiffe://example.org/ns/shop/sa/payments';
const TOKEN = 'k3y-for-the-dashboard-0123456789';
const identity = (id: string) => JSON.stringify({ spiffeId: id, serial: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2099-01-01T00:00:00.000Z', expired: false });
const denied = (n: number) => `ztmesh_requests_total{direction="inbound",source_identity="${F}",destination_identity="${P}",method="POST",status_class="4xx",decision="DENY"} ${n}\n`;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (err: unknown) => errorCode(err));
}

let payments: FakeAdminPort;
beforeAll(async () => {
  payments = await startFakeAdminPort({ '/metrics': [200, denied(1)], '/debug/identity': [200, identity(P)] });
});
afterAll(() => payments.close());

describe('startDashboard on loopback', () => {
  let d: RunningDashboard;
  beforeAll(async () => {
    d = await startDashboard({ listen: { host: '127.0.0.1', port: 0 }, sources: [payments.address], token: undefined, intervalMs: 50, logger: silentLogger() });
  });
  afterAll(() => d.close());

  it('serves the page with a strict CSP, the script as a separate file, and the view as JSON', async () => {
    const page = await get(d.address.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self';.*frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script src="/app.js" defer></script>');
    const js = await get(d.address.port, '/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const view = JSON.parse((await get(d.address.port, '/api/mesh')).body) as MeshView;
    expect(view.graph.edges).toEqual([expect.objectContaining({ source: F, destination: P, denied: 1, mtls: true })]);
    expect(view.workloads[0]).toMatchObject({ identity: P, name: 'payments', healthy: true });
    expect(view.denials).toBeNull();
  });

  it('pushes a new view on the event stream after each poll', async () => {
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: d.address.port, path: '/api/events', agent: false }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (c: string) => {
          buffer += c;
          for (let i = buffer.indexOf('\n\n'); i !== -1; i = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            if (!event.startsWith('event: mesh\ndata: ')) continue;
            const view = JSON.parse(event.slice('event: mesh\ndata: '.length)) as MeshView;
            seen.push(String(view.graph.edges[0]?.denied));
            if (seen.length === 1) payments.routes.set('/metrics', [200, denied(7)]);
            if (view.graph.edges[0]?.denied === 7) {
              req.destroy();
              resolve();
            }
          }
        });
      });
      req.on('error', (err) => (seen.includes('7') ? undefined : reject(err)));
      req.end();
    });
    expect(seen[seen.length - 1]).toBe('7');
  });

  it('answers GET and HEAD only, 404 elsewhere, and refuses a Host that is not loopback (DNS rebinding)', async () => {
    expect(JSON.parse((await get(d.address.port, '/api/mesh', {}, 'POST')).body).error.code).toBe('ZTMESH_DASHBOARD_METHOD_NOT_ALLOWED');
    expect(JSON.parse((await get(d.address.port, '/etc/passwd')).body).error.code).toBe('ZTMESH_DASHBOARD_NOT_FOUND');
    const rebound = await get(d.address.port, '/api/mesh', { host: 'evil.example' });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('ZTMESH_DASHBOARD_UNAUTHORIZED');
    expect((await get(d.address.port, '/', { host: `localhost:${d.address.port}` })).status).toBe(200);
  });
});

describe('startDashboard with a token', () => {
  let d: RunningDashboard;
  beforeAll(async () => {
    d = await startDashboard({ listen: { host: '127.0.0.1', port: 0 }, sources: [payments.address], token: TOKEN, logger: silentLogger() });
  });
  afterAll(() => d.close());

  it('needs the bearer token, compared exactly', async () => {
    const none = await get(d.address.port, '/api/mesh');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(JSON.parse(none.body).error.code).toBe('ZTMESH_DASHBOARD_UNAUTHORIZED');
    expect((await get(d.address.port, '/api/mesh', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get(d.address.port, '/api/mesh', { authorization: `Bearer ${TOKEN.slice(1)}` })).status).toBe(401);
    expect((await get(d.address.port, '/api/mesh', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('logs a browser in from /?token=, into an HttpOnly SameSite=Strict cookie', async () => {
    expect((await get(d.address.port, '/?token=wrong-token-wrong-token')).status).toBe(401);
    const login = await get(d.address.port, `/?token=${TOKEN}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await get(d.address.port, '/', { cookie: cookie.split(';')[0]! })).status).toBe(200);
    expect((await get(d.address.port, '/', { cookie: 'ztmesh_dashboard_token=%E0%A4%A' })).status).toBe(401);
  });
});

describe('startDashboard refuses', () => {
  it('a non-loopback address without a token', async () => {
    expect(await codeOf(startDashboard({ listen: { host: '0.0.0.0', port: 0 }, sources: [payments.address], token: undefined, logger: silentLogger() }))).toBe('ZTMESH_DASHBOARD_TOKEN_REQUIRED');
  });

  it('no sources, or a bad one', async () => {
    const base = { listen: { host: '127.0.0.1', port: 0 }, token: undefined, logger: silentLogger() };
    expect(await codeOf(startDashboard({ ...base, sources: [] }))).toBe('ZTMESH_DASHBOARD_BAD_ADDRESS');
    expect(await codeOf(startDashboard({ ...base, sources: ['127.0.0.1:99999'] }))).toBe('ZTMESH_DASHBOARD_BAD_ADDRESS');
  });

  it('a port in use', async () => {
    const d = await startDashboard({ listen: { host: '127.0.0.1', port: 0 }, sources: [payments.address], token: undefined, logger: silentLogger() });
    try {
      expect(await codeOf(startDashboard({ listen: d.address, sources: [payments.address], token: undefined, logger: silentLogger() }))).toBe('ZTMESH_DASHBOARD_LISTEN_FAILED');
    } finally {
      await d.close();
    }
  });
});

describe('loadToken', () => {
  it('reads one line, refuses short, spaced or missing tokens without echoing them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztmesh-dashboard-token-'));
    try {
      await writeFile(join(dir, 'ok'), `${TOKEN}\n`);
      expect(await loadToken(join(dir, 'ok'))).toBe(TOKEN);
      await writeFile(join(dir, 'short'), 'abc\n');
      await writeFile(join(dir, 'spaced'), 'secret with spaces in it\n');
      for (const f of ['short', 'spaced', 'missing']) {
        const err = await loadToken(join(dir, f)).then(() => undefined, (e: unknown) => e as Error);
        expect(errorCode(err)).toBe('ZTMESH_DASHBOARD_BAD_TOKEN_FILE');
        expect(err!.message).not.toContain('secret with');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
