import { describe, expect, it } from 'vitest';
import { Registry } from './metrics.ts';

describe('Registry', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const r = new Registry();
    const c = r.counter({ name: 'ztmesh_requests_total', help: 'Requests.', labelNames: ['decision', 'code'] });
    c.labels('ALLOW', '2xx').inc();
    c.labels('ALLOW', '2xx').inc(2);
    c.labels('DENY', '4xx').inc();
    const g = r.gauge({ name: 'ztmesh_open_connections', help: 'Open connections.' });
    g.inc();
    g.inc();
    g.dec();
    const h = r.histogram({ name: 'ztmesh_duration_seconds', help: 'Duration.', buckets: [0.1, 1] });
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const text = r.render();
    expect(text).toContain('# TYPE ztmesh_requests_total counter');
    expect(text).toContain('ztmesh_requests_total{decision="ALLOW",code="2xx"} 3');
    expect(text).toContain('ztmesh_requests_total{decision="DENY",code="4xx"} 1');
    expect(text).toContain('ztmesh_open_connections 1');
    expect(text).toContain('ztmesh_duration_seconds_bucket{le="0.1"} 1');
    expect(text).toContain('ztmesh_duration_seconds_bucket{le="1"} 2');
    expect(text).toContain('ztmesh_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('ztmesh_duration_seconds_count 3');
    expect(text).toContain('ztmesh_duration_seconds_sum 5.55');
  });

  it('escapes label values an attacker may control', () => {
    const r = new Registry();
    r.counter({ name: 'x_total', help: 'x', labelNames: ['id'] }).labels('a"b\\c\nd').inc();
    expect(r.render()).toContain('x_total{id="a\\"b\\\\c\\nd"} 1');
  });

  it('caps the number of series and counts what it drops', () => {
    const r = new Registry();
    const c = r.counter({ name: 'capped_total', help: 'c', labelNames: ['k'], maxSeries: 2 });
    c.labels('a').inc();
    c.labels('b').inc();
    c.labels('c').inc();
    c.labels('d').inc();
    const text = r.render();
    expect(text).not.toContain('capped_total{k="c"}');
    expect(text).toContain('ztmesh_metrics_dropped_series_total{metric="capped_total"} 2');
  });

  it('refuses duplicate and invalid names', () => {
    const r = new Registry();
    r.counter({ name: 'dup_total', help: 'd' });
    expect(() => r.counter({ name: 'dup_total', help: 'd' })).toThrow();
    expect(() => r.counter({ name: 'bad-name', help: 'd' })).toThrow();
  });
});
