import { describe, expect, it } from 'vitest';
import { errorCode, type MeshError } from '../../core/errors/mesh-error.ts';
import { MAX_ACCEPTED_REPORT_BYTES, type SidecarReportMessage } from '../distribute/distribution-proto.ts';
import { apiRow, inventoryOf, reportMessage } from './report-fixtures.ts';
import { validateReport } from './validate-report.ts';

function refusal(message: SidecarReportMessage): { code: string; part: unknown } {
  try {
    validateReport(message);
  } catch (err) {
    return { code: errorCode(err), part: (err as MeshError).details?.['part'] };
  }
  throw new Error('expected the report to be refused');
}

describe('validateReport: a sidecar report as received', () => {
  it('accepts a well-formed report: typed parts, the graph series, its size', () => {
    const r = validateReport(reportMessage());
    expect(r.identity?.spiffeId).toBe('spiffe://example.org/ns/shop/sa/orders');
    expect(r.inventory?.apis.map((a) => a.route)).toEqual(['/orders/{id}']);
    expect(r.samples).toEqual([expect.objectContaining({ name: 'ztmesh_requests_total', value: 3 })]);
    expect(r.anomalies).toBeNull();
    expect(r.bytes).toBeGreaterThan(100);
  });

  it('keeps inventory fields it does not know (a newer sidecar\'s), checked only for size', () => {
    const r = validateReport(reportMessage({ inventoryJson: JSON.stringify(inventoryOf('orders', [apiRow('orders', 'GET', '/x', { responseSchemas: { '200': 'object' } })])) }));
    expect((r.inventory!.apis[0] as unknown as Record<string, unknown>)['responseSchemas']).toEqual({ '200': 'object' });
  });

  it.each([
    ['inventory that is not JSON', { inventoryJson: '{"service":' }, 'inventory'],
    ['inventory off its schema', { inventoryJson: JSON.stringify({ service: 'orders', apis: 'all' }) }, 'inventory'],
    ['an API of another service', { inventoryJson: JSON.stringify(inventoryOf('orders', [apiRow('payments', 'GET', '/pay')])) }, 'inventory'],
    ['an identity without a serial', { identityJson: JSON.stringify({ spiffeId: 'spiffe://example.org/ns/shop/sa/orders' }) }, 'identity'],
    ['denials of the wrong shape', { decisionsJson: JSON.stringify({ denials: [{ verdict: 'maybe' }], recent: [] }) }, 'decisions'],
    ['anomalies that are a number', { anomaliesJson: '42' }, 'anomalies'],
    ['request series that are not Prometheus text', { requestsText: 'ztmesh_requests_total{oops 1\n' }, 'requests'],
    ['series other than the graph\'s', { requestsText: 'process_cpu_seconds_total 4\n' }, 'requests'],
    ['a negative sequence', { sequence: -1 }, 'sequence'],
    ['too many truncation notes', { truncated: Array.from({ length: 17 }, () => 'x') }, 'truncated'],
    ['a part of the wrong type', { inventoryJson: 7 as unknown as string }, 'message'],
  ])('refuses %s with ZTMESH_CONTROL_BAD_REPORT naming the part', (_name, over, part) => {
    expect(refusal(reportMessage(over as Partial<SidecarReportMessage>))).toEqual({ code: 'ZTMESH_CONTROL_BAD_REPORT', part });
  });

  it('refuses a report over 1 MiB before parsing any of it', () => {
    const huge = `"${'a'.repeat(MAX_ACCEPTED_REPORT_BYTES)}"`;
    expect(refusal(reportMessage({ anomaliesJson: huge }))).toEqual({ code: 'ZTMESH_CONTROL_BAD_REPORT', part: 'message' });
  });
});
