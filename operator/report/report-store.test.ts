import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../core/telemetry/logger.ts';
import { reportMessage } from './report-fixtures.ts';
import { ReportStore, type ReportSource } from './report-store.ts';

function source(workload: string, streamId: number): ReportSource {
  return { workload, identity: `spiffe://example.org/ns/shop/sa/${workload.split('/')[1]!.replace(/-\d+$/, '')}`, streamId };
}

function store(over: { maxBytes?: number; maxReports?: number } = {}) {
  let now = 1_000_000;
  const s = new ReportStore({ logger: silentLogger(), graceMs: 60_000, clock: () => now, ...over });
  return { s, advance: (ms: number) => (now += ms) };
}

describe('ReportStore: the latest valid report per authenticated pod, bounded', () => {
  it('keeps one report per pod (a newer one replaces it) and counts bytes', () => {
    const { s, advance } = store();
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 1 }));
    advance(1000);
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 2 }));
    s.receive(source('shop/web-1', 2), reportMessage());
    expect(s.reports().map((r) => [r.source.workload, r.report.sequence])).toEqual([['shop/orders-1', 2], ['shop/web-1', 1]]);
    expect(s.stats()).toMatchObject({ held: 2, accepted: 3, refused: {} });
    expect(s.stats().bytes).toBe(s.reports().reduce((n, r) => n + r.report.bytes, 0));
  });

  it('refuses a malformed report, counts it by code, and keeps the pod\'s previous one', () => {
    const { s, advance } = store();
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 1 }));
    advance(1000);
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 2, inventoryJson: '{not json' }));
    expect(s.reports().map((r) => r.report.sequence)).toEqual([1]);
    expect(s.stats().refused).toEqual({ ZTMESH_CONTROL_BAD_REPORT: 1 });
  });

  it('logs a pod\'s refusals of one code at most every 10 s, and counts them all', () => {
    const raw: string[] = [];
    const logger = createLogger({ name: 'test', level: 'info', destination: { write: (line: string) => void raw.push(line) } });
    let now = 0;
    const s = new ReportStore({ logger, clock: () => now });
    for (let i = 0; i < 50; i++) {
      now += 600;
      s.receive(source('shop/orders-1', 1), reportMessage({ inventoryJson: 'junk' }));
    }
    expect(s.stats().refused).toEqual({ ZTMESH_CONTROL_BAD_REPORT: 50 });
    const refusals = raw.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['code'] === 'ZTMESH_CONTROL_BAD_REPORT');
    expect(refusals.map((l) => l['workload'])).toEqual(['shop/orders-1', 'shop/orders-1', 'shop/orders-1']);
  });

  it('takes a burst of 5 reports on one stream (queued while busy), then one per 500 ms; drops the rest', () => {
    const { s, advance } = store();
    for (let i = 1; i <= 7; i++) s.receive(source('shop/orders-1', 1), reportMessage({ sequence: i }));
    expect(s.reports()[0]!.report.sequence).toBe(5);
    expect(s.stats().refused).toEqual({ ZTMESH_CONTROL_REPORT_DROPPED: 2 });
    advance(500);
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 8 }));
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 9 }));
    expect(s.reports()[0]!.report.sequence).toBe(8);
    expect(s.stats().refused).toEqual({ ZTMESH_CONTROL_REPORT_DROPPED: 3 });
  });

  it('keeps a report for the grace period after its stream ends, then drops it', () => {
    const { s, advance } = store();
    s.receive(source('shop/orders-1', 1), reportMessage());
    s.streamEnded(source('shop/orders-1', 1));
    advance(59_000);
    expect(s.reports()[0]!.endedAt).toBe(1_000_000);
    advance(1000);
    expect(s.reports()).toEqual([]);
    expect(s.stats()).toMatchObject({ held: 0, bytes: 0, expired: 1 });
  });

  it('a reconnected sidecar keeps its report: the old stream\'s end does not expire the new stream\'s', () => {
    const { s, advance } = store();
    s.receive(source('shop/orders-1', 1), reportMessage({ sequence: 1 }));
    s.receive(source('shop/orders-1', 2), reportMessage({ sequence: 1 }));
    s.streamEnded(source('shop/orders-1', 1));
    advance(120_000);
    expect(s.reports().map((r) => [r.source.streamId, r.endedAt])).toEqual([[2, undefined]]);
  });

  it('stays within its byte budget: ended reports are evicted first, then new ones refused', () => {
    const one = new ReportStore({ logger: silentLogger() });
    one.receive(source('shop/a-1', 1), reportMessage());
    const size = one.stats().bytes;
    const { s } = store({ maxBytes: size * 2 });
    s.receive(source('shop/a-1', 1), reportMessage());
    s.receive(source('shop/b-1', 2), reportMessage());
    s.receive(source('shop/c-1', 3), reportMessage());
    expect(s.stats()).toMatchObject({ held: 2, refused: { ZTMESH_CONTROL_REPORT_DROPPED: 1 } });
    s.streamEnded(source('shop/a-1', 1));
    s.receive(source('shop/c-1', 4), reportMessage());
    expect(s.reports().map((r) => r.source.workload)).toEqual(['shop/b-1', 'shop/c-1']);
    expect(s.stats().bytes).toBeLessThanOrEqual(size * 2);
  });

  it('holds at most maxReports pods', () => {
    const { s } = store({ maxReports: 2 });
    for (let i = 0; i < 5; i++) s.receive(source(`shop/p-${i}`, i), reportMessage());
    expect(s.stats()).toMatchObject({ held: 2, refused: { ZTMESH_CONTROL_REPORT_DROPPED: 3 } });
  });
});
