import type { SidecarReportMessage } from '../distribute/distribution-proto.ts';

/** An inventory API row as a sidecar's `/inventory` lists it (tests build reports from these). */
export function apiRow(service: string, method: string, route: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service, method, route, callers: ['spiffe://example.org/ns/shop/sa/web'], callersOverflow: 0, count: 1,
    statusClasses: { '2xx': 1 }, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:01.000Z',
    requestContentTypes: [], responseContentTypes: ['application/json'], responseFields: { id: 'number' },
    malformedBodies: 0, sensitive: [], declared: false, ...over,
  };
}

/** An inventory snapshot of one service. */
export function inventoryOf(service: string, apis: Record<string, unknown>[], zombies: { method: string; route: string }[] = []): Record<string, unknown> {
  return { service, generatedAt: '2026-01-01T00:00:02.000Z', maxRoutes: 500, overflow: 0, apis, zombies };
}

/** A well-formed report message; `over` replaces parts. */
export function reportMessage(over: Partial<SidecarReportMessage> = {}): SidecarReportMessage {
  return {
    sequence: 1,
    generatedAt: Date.UTC(2026, 0, 1),
    identityJson: JSON.stringify({ spiffeId: 'spiffe://example.org/ns/shop/sa/orders', serial: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T01:00:00.000Z', expired: false }),
    inventoryJson: JSON.stringify(inventoryOf('orders', [apiRow('orders', 'GET', '/orders/{id}')])),
    decisionsJson: JSON.stringify({ denials: [], recent: [] }),
    anomaliesJson: '',
    requestsText: 'ztmesh_requests_total{direction="inbound",source_identity="spiffe://example.org/ns/shop/sa/web",destination_identity="spiffe://example.org/ns/shop/sa/orders",method="GET",status_class="2xx",decision="ALLOW"} 3\n',
    truncated: [],
    ...over,
  };
}
