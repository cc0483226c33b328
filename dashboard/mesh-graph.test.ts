import { describe, expect, it } from 'vitest';
import { buildMeshGraph, shortName } from './mesh-graph.ts';
import { parsePrometheusText } from './prometheus-text.ts';

const F = 'spiffe://example.org/ns/shop/sa/frontend';
const O = 'spiffe://example.org/ns/shop/sa/orders';
const P = 'spiffe://example.org/ns/shop/sa/payments';

function req(direction: string, from: string, to: string, decision: string, value: number, status = '2xx'): string {
  return `ztmesh_requests_total{direction="${direction}",source_identity="${from}",destination_identity="${to}",method="GET",status_class="${status}",decision="${decision}"} ${value}`;
}

describe('buildMeshGraph', () => {
  it('makes an edge per caller and callee from the destination sidecars, allowed and denied apart', () => {
    const payments = parsePrometheusText([
      req('inbound', O, P, 'ALLOW', 4),
      req('inbound', F, P, 'DENY', 3, '4xx'),
      req('inbound', F, P, 'DENY', 1, '4xx').replace('GET', 'POST'),
    ].join('\n'));
    const orders = parsePrometheusText([req('inbound', F, O, 'ALLOW', 4), req('inbound', F, O, 'ALLOW', 1, '5xx'), req('outbound', O, P, 'none', 4)].join('\n'));
    const frontend = parsePrometheusText([req('outbound', F, O, 'none', 5), req('outbound', F, P, 'none', 4, '4xx')].join('\n'));
    const g = buildMeshGraph([{ identity: F, samples: frontend }, { identity: O, samples: orders }, { identity: P, samples: payments }]);
    expect(g.nodes.map((n) => [n.label, n.polled])).toEqual([['frontend', true], ['orders', true], ['payments', true]]);
    expect(g.edges).toEqual([
      { source: F, destination: O, allowed: 5, denied: 0, undecided: 0, errors: 1, mtls: true, observedBy: 'destination' },
      { source: F, destination: P, allowed: 0, denied: 4, undecided: 0, errors: 0, mtls: true, observedBy: 'destination' },
      { source: O, destination: P, allowed: 4, denied: 0, undecided: 0, errors: 0, mtls: true, observedBy: 'destination' },
    ]);
  });

  it('adds a caller-side edge only towards a workload whose sidecar is not polled', () => {
    const ext = 'spiffe://example.org/ns/ext/sa/ledger';
    const frontend = parsePrometheusText([req('outbound', F, ext, 'none', 2), req('outbound', F, O, 'none', 7)].join('\n'));
    const g = buildMeshGraph([{ identity: F, samples: frontend }, { identity: O, samples: [] }]);
    expect(g.edges).toEqual([{ source: F, destination: ext, allowed: 0, denied: 0, undecided: 2, errors: 0, mtls: true, observedBy: 'source' }]);
    expect(g.nodes.find((n) => n.id === ext)).toEqual({ id: ext, label: 'ledger', polled: false });
    expect(g.nodes.find((n) => n.id === O)?.polled).toBe(true);
  });

  it('ignores other metrics, zero counts and series without identities; an unreachable sidecar still has no node', () => {
    const s = parsePrometheusText(['up 1', req('inbound', F, P, 'DENY', 0), 'ztmesh_requests_total{direction="inbound"} 3'].join('\n'));
    expect(buildMeshGraph([{ identity: undefined, samples: s }])).toEqual({ nodes: [], edges: [] });
  });

  it('names nodes by service account, or the last segment', () => {
    expect(shortName(P)).toBe('payments');
    expect(shortName('spiffe://td/custom/path')).toBe('path');
    expect(shortName('unknown')).toBe('unknown');
  });
});
