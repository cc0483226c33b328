import { describe, expect, it } from 'vitest';
import type { ObservedInventory } from '../../dashboard/sidecar-reading.ts';
import { inventorySnapshotSchema } from '../../sidecar/inventory/fetch-inventory.ts';
import { mergeInventories, mergeJson } from './merged-inventory.ts';
import { apiRow, inventoryOf } from './report-fixtures.ts';

const inv = (x: Record<string, unknown>) => x as unknown as ObservedInventory;

describe('mergeInventories: the mesh inventory in the shape of a sidecar\'s /inventory', () => {
  it('merges replicas of one service row by row and keeps other services apart', () => {
    const a = inventoryOf('orders', [apiRow('orders', 'GET', '/orders/{id}', { count: 2, statusClasses: { '2xx': 2 }, callers: ['spiffe://td/ns/shop/sa/web'], firstSeen: '2026-01-01T00:00:05.000Z', lastSeen: '2026-01-01T00:00:06.000Z', sensitive: ['email'] })]);
    const b = inventoryOf('orders', [apiRow('orders', 'GET', '/orders/{id}', { count: 3, statusClasses: { '2xx': 1, '4xx': 2 }, callers: ['spiffe://td/ns/shop/sa/admin'], firstSeen: '2026-01-01T00:00:01.000Z', lastSeen: '2026-01-01T00:00:09.000Z', responseFields: { id: 'number', email: 'string' }, declared: true })]);
    const c = inventoryOf('payments', [apiRow('payments', 'POST', '/pay')]);
    const merged = mergeInventories([{ workload: 'shop/orders-1', inventory: inv(a) }, { workload: 'shop/orders-2', inventory: inv(b) }, { workload: 'shop/payments-1', inventory: inv(c) }], Date.UTC(2026, 0, 2));
    const [orders, pay] = merged['apis'] as Record<string, unknown>[];
    expect(orders).toMatchObject({
      service: 'orders', method: 'GET', route: '/orders/{id}', count: 5, statusClasses: { '2xx': 3, '4xx': 2 },
      callers: ['spiffe://td/ns/shop/sa/web', 'spiffe://td/ns/shop/sa/admin'], firstSeen: '2026-01-01T00:00:01.000Z', lastSeen: '2026-01-01T00:00:09.000Z',
      responseFields: { id: 'number', email: 'string' }, sensitive: ['email'], declared: true,
    });
    expect(pay).toMatchObject({ service: 'payments', route: '/pay', count: 1 });
    expect(merged).toMatchObject({ service: '*', generatedAt: '2026-01-02T00:00:00.000Z', sources: [{ workload: 'shop/orders-1', service: 'orders' }, { workload: 'shop/orders-2' }, { workload: 'shop/payments-1' }] });
    // The shape `ztmesh inventory --from` validates.
    expect(inventorySnapshotSchema.safeParse(merged).success).toBe(true);
  });

  it('carries unknown fields through, merging them generically', () => {
    const a = inventoryOf('orders', [apiRow('orders', 'GET', '/a', { responseContentTypesByStatus: { '200': ['application/json'] }, bytesOut: 10 })]);
    const b = inventoryOf('orders', [apiRow('orders', 'GET', '/a', { responseContentTypesByStatus: { '200': ['text/plain'], '404': ['text/html'] }, bytesOut: 5 })]);
    const [row] = mergeInventories([{ workload: 'shop/o-1', inventory: inv(a) }, { workload: 'shop/o-2', inventory: inv(b) }], 0)['apis'] as Record<string, unknown>[];
    expect(row).toMatchObject({ bytesOut: 15, responseContentTypesByStatus: { '200': ['application/json', 'text/plain'], '404': ['text/html'] } });
  });

  it('a zombie is a route no replica served; each zombie names its service', () => {
    const a = inventoryOf('orders', [], [{ method: 'GET', route: '/legacy' }, { method: 'DELETE', route: '/orders/{id}' }]);
    const b = inventoryOf('orders', [apiRow('orders', 'DELETE', '/orders/{id}')], [{ method: 'GET', route: '/legacy' }]);
    const merged = mergeInventories([{ workload: 'shop/o-1', inventory: inv(a) }, { workload: 'shop/o-2', inventory: inv(b) }], 0);
    expect(merged['zombies']).toEqual([{ service: 'orders', method: 'GET', route: '/legacy' }]);
  });

  it('merged lists stay bounded', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `spiffe://td/ns/x/sa/c${n}-${i}`);
    const merged = mergeJson(many(800), many(900)) as string[];
    expect(merged).toHaveLength(1000);
  });
});
