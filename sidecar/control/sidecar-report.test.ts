import { describe, expect, it } from 'vitest';
import { validateReport } from '../../operator/report/validate-report.ts';
import type { InventorySnapshot } from '../inventory/api-inventory.ts';
import { reportBuilder } from './sidecar-report.ts';

function inventory(routes: number): InventorySnapshot {
  return {
    service: 'orders', generatedAt: '2026-01-01T00:00:00.000Z', maxRoutes: 100_000, overflow: 0, zombies: [],
    apis: Array.from({ length: routes }, (_, i) => ({
      service: 'orders', method: 'GET', route: `/r${i}/${'x'.repeat(200)}`, callers: ['spiffe://example.org/ns/shop/sa/web'], callersOverflow: 0, count: i,
      statusClasses: { '2xx': i }, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', requestContentTypes: [], responseContentTypes: [],
      responseFields: {}, malformedBodies: 0, sensitive: [], declared: false,
    })) as unknown as InventorySnapshot['apis'],
  };
}

const denial = (i: number) => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), direction: 'inbound', verdict: 'deny', caller: 'spiffe://example.org/ns/shop/sa/web',
  destination: 'spiffe://example.org/ns/shop/sa/orders', method: 'GET', path: `/p${i}`, status: 403, code: 'ZTMESH_SIDECAR_DENIED', policy: null, rule: null, reason: 'no ALLOW policy matched',
});

describe('reportBuilder: what a sidecar reports on its stream', () => {
  it('builds reports the operator accepts, numbered in order', () => {
    const build = reportBuilder({ identity: () => undefined, denials: () => [denial(1)], requests: () => '', inventory: () => inventory(3), now: () => 5 });
    const first = build();
    expect(first).toMatchObject({ sequence: 1, generatedAt: 5, identityJson: '', anomaliesJson: '', truncated: [] });
    const valid = validateReport(first);
    expect(valid.inventory?.apis).toHaveLength(3);
    expect(valid.decisions?.denials).toHaveLength(1);
    expect(build().sequence).toBe(2);
  });

  it('stays within its size bound: keeps the most called APIs and the newest denials, and says what it cut', () => {
    const build = reportBuilder({
      identity: () => undefined, denials: () => Array.from({ length: 500 }, (_, i) => denial(i)), requests: () => '', inventory: () => inventory(5000), maxBytes: 64 * 1024,
    });
    const report = build();
    const size = [report.identityJson, report.inventoryJson, report.decisionsJson, report.anomaliesJson, report.requestsText].reduce((n, s) => n + Buffer.byteLength(s), 0);
    expect(size).toBeLessThanOrEqual(64 * 1024);
    expect(report.truncated).toEqual(['decisions.denials', 'inventory.apis']);
    const valid = validateReport(report);
    const counts = valid.inventory!.apis.map((a) => a.count);
    expect(counts[0]).toBe(4999);
    expect(valid.decisions!.denials[0]!.path).toBe('/p0');
  });
});
