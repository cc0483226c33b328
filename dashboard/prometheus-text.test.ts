import { describe, expect, it } from 'vitest';
import { errorCode } from '../core/errors/mesh-error.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { parsePrometheusText } from './prometheus-text.ts';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return errorCode(err);
  }
  return undefined;
}

describe('parsePrometheusText', () => {
  it('reads samples with labels, skipping HELP/TYPE and blank lines, ignoring timestamps', () => {
    const text = [
      '# HELP ztmesh_requests_total Requests.',
      '# TYPE ztmesh_requests_total counter',
      'ztmesh_requests_total{direction="inbound",source_identity="spiffe://a/b",decision="DENY"} 3',
      '',
      'up 1 1700000000000',
      'ztmesh_certificate_expiry_timestamp_seconds 1.7e9',
      'h_bucket{le="+Inf"} +Inf',
      'nan_metric NaN',
    ].join('\n');
    const s = parsePrometheusText(text);
    expect(s[0]).toEqual({ name: 'ztmesh_requests_total', labels: { direction: 'inbound', source_identity: 'spiffe://a/b', decision: 'DENY' }, value: 3 });
    expect(s[1]).toEqual({ name: 'up', labels: {}, value: 1 });
    expect(s[2]!.value).toBe(1.7e9);
    expect(s[3]).toEqual({ name: 'h_bucket', labels: { le: '+Inf' }, value: Infinity });
    expect(Number.isNaN(s[4]!.value)).toBe(true);
  });

  it('unescapes label values, including commas, braces and quotes inside them', () => {
    const [s] = parsePrometheusText('m{path="/a,b}\\"c\\\\d\\ne",x="y"} 1\r\n');
    expect(s!.labels).toEqual({ path: '/a,b}"c\\d\ne', x: 'y' });
  });

  it('reads back what the sidecar metrics registry renders, attacker-chosen label text included', () => {
    const r = new Registry();
    const c = r.counter({ name: 'ztmesh_test_total', help: 'x', labelNames: ['who'] });
    const hostile = 'spiffe://evil/"}\n<script>alert(1)</script>\\';
    c.labels(hostile).inc(2);
    const samples = parsePrometheusText(r.render()).filter((s) => s.name === 'ztmesh_test_total');
    expect(samples).toEqual([{ name: 'ztmesh_test_total', labels: { who: hostile }, value: 2 }]);
  });

  it.each([
    ['m{a="x"', 'unterminated'],
    ['m{a=x} 1', 'unquoted value'],
    ['m{a="\\q"} 1', 'bad escape'],
    ['m{a="1",a="2"} 1', 'repeated label'],
    ['m', 'no value'],
    ['m abc', 'not a number'],
    ['m 1 2 3', 'too many fields'],
    ['m 1 1.5', 'bad timestamp'],
    ['{a="b"} 1', 'no name'],
  ])('refuses %j (%s) with ZTMESH_DASHBOARD_BAD_METRICS', (line) => {
    expect(codeOf(() => parsePrometheusText(`ok 1\n${line}\n`))).toBe('ZTMESH_DASHBOARD_BAD_METRICS');
  });
});
