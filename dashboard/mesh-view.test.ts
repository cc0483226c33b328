import { describe, expect, it } from 'vitest';
import { buildMeshView, MAX_DENIALS_SHOWN } from './mesh-view.ts';
import type { ObservedDecision, SidecarReading } from './sidecar-reading.ts';

const P = 'spiffe://example.org/ns/shop/sa/payments';
const O = 'spiffe://example.org/ns/shop/sa/orders';

function denial(time: string, path: string): ObservedDecision {
  return { time, direction: 'inbound', verdict: 'deny', caller: 'x', destination: P, method: 'GET', path, status: 403, code: 'ZTMESH_SIDECAR_DENIED', policy: null, rule: null, reason: 'no ALLOW policy matched' };
}

function reading(over: Partial<SidecarReading>): SidecarReading {
  return { admin: '127.0.0.1:1', error: null, identity: null, samples: [], decisions: null, inventory: null, anomalies: null, ...over };
}

const cert = (id: string) => ({ spiffeId: id, serial: '0A', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T01:00:00.000Z', expired: false });

describe('buildMeshView', () => {
  it('merges every sidecar\'s denials newest first, naming who reported each', () => {
    const v = buildMeshView([
      reading({ identity: cert(P), decisions: { denials: [denial('2026-01-01T00:00:03Z', '/c'), denial('2026-01-01T00:00:01Z', '/a')], recent: [] } }),
      reading({ admin: '127.0.0.1:2', identity: cert(O), decisions: { denials: [denial('2026-01-01T00:00:02Z', '/b')], recent: [] } }),
    ], Date.parse('2026-01-01T00:00:04Z'));
    expect(v.denials!.map((d) => [d.path, d.reportedBy])).toEqual([['/c', 'payments'], ['/b', 'orders'], ['/a', 'payments']]);
    expect(v.generatedAt).toBe('2026-01-01T00:00:04.000Z');
    expect(v.workloads.map((w) => [w.name, w.certificate?.notAfter])).toEqual([['payments', '2026-01-01T01:00:00.000Z'], ['orders', '2026-01-01T01:00:00.000Z']]);
  });

  it('caps the denials shown', () => {
    const many = Array.from({ length: MAX_DENIALS_SHOWN + 20 }, (_, i) => denial(new Date(i * 1000).toISOString(), `/${i}`));
    expect(buildMeshView([reading({ decisions: { denials: many, recent: [] } })], 0).denials).toHaveLength(MAX_DENIALS_SHOWN);
  });

  it('says "not available" (null) apart from "none yet" (empty) for denials, inventory and anomalies', () => {
    const none = buildMeshView([reading({})], 0);
    expect([none.denials, none.inventory, none.anomalies]).toEqual([null, null, null]);
    const empty = buildMeshView([reading({ decisions: { denials: [], recent: [] }, anomalies: [], inventory: { service: 'orders', generatedAt: '', maxRoutes: 10, overflow: 0, apis: [], zombies: [{ method: 'GET', route: '/old' }] } })], 0);
    expect(empty.denials).toEqual([]);
    expect(empty.anomalies).toEqual([]);
    expect(empty.inventory).toEqual({ apis: [], zombies: [{ service: 'orders', method: 'GET', route: '/old' }] });
  });

  it('shows an unreachable sidecar by its admin address, with its error', () => {
    const v = buildMeshView([reading({ admin: '127.0.0.1:9', error: { code: 'ZTMESH_DASHBOARD_SOURCE_FAILED', message: 'cannot connect' } })], 0);
    expect(v.workloads).toEqual([{ admin: '127.0.0.1:9', identity: null, name: '127.0.0.1:9', healthy: false, error: { code: 'ZTMESH_DASHBOARD_SOURCE_FAILED', message: 'cannot connect' }, certificate: null }]);
    expect(v.graph).toEqual({ nodes: [], edges: [] });
  });
});
