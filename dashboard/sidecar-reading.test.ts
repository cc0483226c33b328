import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAdminPort, type FakeAdminPort } from './fake-admin-port.ts';
import { readSidecar } from './sidecar-reading.ts';

const P = 'spiffe://example.org/ns/shop/sa/payments';
const IDENTITY = JSON.stringify({ spiffeId: P, trustDomain: 'example.org', serial: 'AB12', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T01:00:00.000Z', expired: false, issuer: 'CN=ca' });
const METRICS = `ztmesh_requests_total{direction="inbound",source_identity="x",destination_identity="${P}",method="GET",status_class="4xx",decision="DENY"} 2\n`;
const DECISION = { time: '2026-01-01T00:00:01.000Z', direction: 'inbound', verdict: 'deny', caller: 'x', destination: P, method: 'GET', path: '/<b>', status: 403, code: 'ZTMESH_SIDECAR_DENIED', policy: null, rule: null, reason: 'no ALLOW policy matched' };

let port: FakeAdminPort | undefined;
afterEach(async () => {
  await port?.close();
  port = undefined;
});

describe('readSidecar', () => {
  it('reads metrics, identity and decisions; endpoints the sidecar lacks read as null, not as errors', async () => {
    port = await startFakeAdminPort({ '/metrics': [200, METRICS], '/debug/identity': [200, IDENTITY], '/debug/decisions': [200, JSON.stringify({ denials: [DECISION], recent: [], totals: {}, capacity: {} })] });
    const r = await readSidecar(port.address, 2000);
    expect(r.error).toBeNull();
    expect(r.identity).toMatchObject({ spiffeId: P, serial: 'AB12', expired: false });
    expect(r.samples).toHaveLength(1);
    expect(r.decisions?.denials[0]?.path).toBe('/<b>');
    expect(r.inventory).toBeNull();
    expect(r.anomalies).toBeNull();
  });

  it('reads anomalies as a list or as {anomalies: [...]}', async () => {
    const a = { time: '2026-01-01T00:00:00Z', kind: 'new-route', caller: 'spiffe://x/y', method: 'GET', route: '/admin', measure: 'first call', observed: 1, baseline: 0, deviation: 1, extra: true };
    port = await startFakeAdminPort({ '/metrics': [200, ''], '/debug/anomalies': [200, JSON.stringify({ anomalies: [a] })] });
    expect((await readSidecar(port.address, 2000)).anomalies).toEqual([{ time: a.time, kind: a.kind, caller: a.caller, method: 'GET', route: '/admin', measure: 'first call', observed: 1, baseline: 0, deviation: 1 }]);
    port.routes.set('/debug/anomalies', [200, JSON.stringify([a])]);
    expect((await readSidecar(port.address, 2000)).anomalies).toHaveLength(1);
  });

  it('reports broken metrics by code and still shows the rest', async () => {
    port = await startFakeAdminPort({ '/metrics': [200, 'm{a="x" 1\n'], '/debug/identity': [200, IDENTITY] });
    const r = await readSidecar(port.address, 2000);
    expect(r.error?.code).toBe('ZTMESH_DASHBOARD_BAD_METRICS');
    expect(r.samples).toEqual([]);
    expect(r.identity?.spiffeId).toBe(P);
  });

  it.each([
    ['/metrics', [500, 'boom']],
    ['/debug/decisions', [200, 'not json']],
    ['/debug/decisions', [200, JSON.stringify({ denials: [{ ...DECISION, verdict: 'maybe' }], recent: [] })]],
    ['/inventory', [200, JSON.stringify({ apis: 'no' })]],
  ] as const)('a bad %s is ZTMESH_DASHBOARD_SOURCE_FAILED', async (path, answer) => {
    port = await startFakeAdminPort({ '/metrics': [200, METRICS], [path]: answer });
    expect((await readSidecar(port.address, 2000)).error?.code).toBe('ZTMESH_DASHBOARD_SOURCE_FAILED');
  });

  it('an unreachable sidecar is ZTMESH_DASHBOARD_SOURCE_FAILED, never a throw', async () => {
    port = await startFakeAdminPort({});
    const address = port.address;
    await port.close();
    port = undefined;
    const r = await readSidecar(address, 2000);
    expect(r.error?.code).toBe('ZTMESH_DASHBOARD_SOURCE_FAILED');
    expect(r.identity).toBeNull();
  });
});
