import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startOperatorDashboard } from './operator-dashboard.ts';
import { reportMessage } from './report-fixtures.ts';
import { ReportStore } from './report-store.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** GET with an explicit Host header (fetch cannot set one). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function dashboardOn(host: string, token: string | undefined) {
  const store = new ReportStore({ logger: silentLogger() });
  store.receive({ workload: 'shop/orders-1', identity: 'spiffe://example.org/ns/shop/sa/orders', streamId: 1 }, reportMessage());
  const d = await startOperatorDashboard({ listen: { host, port: 0 }, token, store, logger: silentLogger() });
  cleanup.push(() => d.close());
  return d;
}

describe('the operator\'s dashboard', () => {
  it('loopback without a token: serves the aggregate to loopback Host names only (no DNS rebinding)', async () => {
    const d = await dashboardOn('127.0.0.1', undefined);
    const inventory = await get(d.port, '/inventory', `127.0.0.1:${d.port}`);
    expect(inventory.status).toBe(200);
    expect(JSON.parse(inventory.body)).toMatchObject({ service: '*', apis: [{ service: 'orders', route: '/orders/{id}' }], sources: [{ workload: 'shop/orders-1' }] });
    const mesh = JSON.parse((await get(d.port, '/api/mesh', 'localhost')).body);
    expect(mesh.workloads).toEqual([expect.objectContaining({ admin: 'shop/orders-1', identity: 'spiffe://example.org/ns/shop/sa/orders', error: null })]);
    for (const path of ['/', '/api/mesh', '/inventory']) {
      const refused = await get(d.port, path, 'dashboard.attacker.example');
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body).error.code).toBe('ZTMESH_DASHBOARD_UNAUTHORIZED');
    }
  });

  it('refuses to serve a non-loopback address without a token', async () => {
    const err = await startOperatorDashboard({ listen: { host: '0.0.0.0', port: 0 }, token: undefined, store: new ReportStore({ logger: silentLogger() }), logger: silentLogger() }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('ZTMESH_DASHBOARD_TOKEN_REQUIRED');
  });
});
