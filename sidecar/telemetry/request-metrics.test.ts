import { describe, expect, it } from 'vitest';
import { Registry } from '../../core/telemetry/metrics.ts';
import { methodIndex, METHODS, RequestMetrics } from './request-metrics.ts';

describe('RequestMetrics', () => {
  it('normalizes methods to a bounded, case-sensitive set', () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'].map((m) => METHODS[methodIndex(m)])).toEqual(METHODS.slice(0, 9));
    expect(METHODS[methodIndex('get')]).toBe('other');
    expect(METHODS[methodIndex('PROPFIND')]).toBe('other');
  });

  it('records status 0 (no response) as status class "other"', () => {
    const registry = new Registry();
    const m = new RequestMetrics(registry);
    m.record(m.peer('outbound', 'a', 'b'), 'GET', 0, undefined, 0.01);
    expect(registry.render()).toContain('ztmesh_requests_total{direction="outbound",source_identity="a",destination_identity="b",method="GET",status_class="other",decision="none"} 1');
  });

  it('binds each label combination once and reuses it', () => {
    const m = new RequestMetrics(new Registry());
    const p = m.peer('inbound', 'a', 'b');
    expect(m.peer('inbound', 'a', 'b')).toBe(p);
    m.record(p, 'GET', 200, 'ALLOW', 0.001);
    const child = p.requests.find((c) => c !== undefined);
    m.record(p, 'GET', 204, 'ALLOW', 0.001);
    expect(p.requests.filter((c) => c !== undefined)).toEqual([child]);
    expect(child?.value).toBe(2);
  });

  it('past 1000 peer pairs per direction, records new pairs under the identity "other"', () => {
    const registry = new Registry();
    const m = new RequestMetrics(registry);
    for (let i = 0; i < 1000; i++) m.peer('inbound', `spiffe://td/caller-${i}`, 'spiffe://td/self');
    m.record(m.peer('inbound', 'spiffe://td/caller-1000', 'spiffe://td/self'), 'GET', 200, 'ALLOW', 0.001);
    m.record(m.peer('inbound', 'spiffe://td/caller-1', 'spiffe://td/self'), 'GET', 200, 'ALLOW', 0.001);
    const text = registry.render();
    expect(text).toContain('source_identity="other",destination_identity="other"');
    expect(text).not.toContain('caller-1000');
    expect(text).toContain('source_identity="spiffe://td/caller-1",');
  });
});
