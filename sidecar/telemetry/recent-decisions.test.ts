import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { jsonRoute, startAdminServer } from '../admin/admin-server.ts';
import { allow, deny, fakeRequestInfo } from './fake-request-info.ts';
import { MAX_PATH_CHARS, RecentDecisions } from './recent-decisions.ts';

const T0 = Date.parse('2026-01-02T03:04:05.000Z');
const DENIED = { status: 403, errorCode: 'ZTMESH_SIDECAR_DENIED', requestBytes: 0, responseBytes: 0 };
const OK = { status: 200, errorCode: undefined, requestBytes: 1, responseBytes: 2 };

describe('RecentDecisions', () => {
  it('records a policy denial with its explanation, caller, method, path and time', () => {
    const r = new RecentDecisions({ now: () => T0 });
    r.start(fakeRequestInfo({ method: 'POST', path: '/charge', decision: deny('shop/no-frontend', 2) })).end(DENIED);
    expect(r.snapshot().denials).toEqual([{
      time: '2026-01-02T03:04:05.000Z', direction: 'inbound', verdict: 'deny',
      caller: 'spiffe://mesh.test/ns/web/sa/frontend', destination: 'spiffe://mesh.test/ns/shop/sa/items',
      method: 'POST', path: '/charge', status: 403, code: 'ZTMESH_SIDECAR_DENIED', policy: 'shop/no-frontend', rule: 2, reason: 'denied by DENY policy',
    }]);
    expect(r.snapshot().totals).toEqual({ deny: 1, allow: 0, error: 0 });
  });

  it('records a refusal by another check (no policy, rate limit) as a denial naming its code', () => {
    const r = new RecentDecisions();
    r.start(fakeRequestInfo()).end({ status: 403, errorCode: 'ZTMESH_SIDECAR_NO_POLICY', requestBytes: 0, responseBytes: 0 });
    r.start(fakeRequestInfo({ decision: allow() })).end({ status: 429, errorCode: 'ZTMESH_RATELIMIT_EXCEEDED', requestBytes: 0, responseBytes: 0 });
    const [limited, noPolicy] = r.snapshot().denials;
    expect(noPolicy).toMatchObject({ verdict: 'deny', code: 'ZTMESH_SIDECAR_NO_POLICY', policy: null, rule: null });
    expect(noPolicy!.reason).toContain('ZTMESH_SIDECAR_NO_POLICY');
    expect(limited).toMatchObject({ verdict: 'deny', code: 'ZTMESH_RATELIMIT_EXCEEDED', policy: null, status: 429 });
  });

  it('keeps allowed requests and errors in their own ring, so allowed traffic never evicts denials', () => {
    const r = new RecentDecisions({ denials: 2, recent: 3 });
    r.start(fakeRequestInfo({ path: '/d1', decision: deny() })).end(DENIED);
    for (let i = 0; i < 10; i++) r.start(fakeRequestInfo({ path: `/a${i}`, decision: allow() })).end(OK);
    r.start(fakeRequestInfo({ path: '/e' })).end({ status: 502, errorCode: 'ZTMESH_SIDECAR_UPSTREAM_FAILED', requestBytes: 0, responseBytes: 0 });
    const s = r.snapshot();
    expect(s.denials.map((d) => d.path)).toEqual(['/d1']);
    expect(s.recent.map((d) => d.path)).toEqual(['/e', '/a9', '/a8']);
    expect(s.recent[0]!.verdict).toBe('error');
    expect(s.recent[1]).toMatchObject({ verdict: 'allow', policy: 'shop/allow-frontend', rule: 0 });
    expect(s.totals).toEqual({ deny: 1, allow: 10, error: 1 });
    expect(s.capacity).toEqual({ denials: 2, recent: 3 });
  });

  it('is bounded: the oldest denial is evicted first, newest listed first', () => {
    const r = new RecentDecisions({ denials: 3, recent: 0 });
    for (let i = 0; i < 7; i++) r.start(fakeRequestInfo({ path: `/p${i}`, decision: deny() })).end(DENIED);
    r.start(fakeRequestInfo({ decision: allow() })).end(OK);
    expect(r.snapshot().denials.map((d) => d.path)).toEqual(['/p6', '/p5', '/p4']);
    expect(r.snapshot().recent).toEqual([]);
    expect(r.snapshot().totals.deny).toBe(7);
  });

  it('ignores outbound requests it forwarded (the destination decides) but records its own refusals', () => {
    const r = new RecentDecisions();
    r.start(fakeRequestInfo({ direction: 'outbound' })).end(OK);
    r.start(fakeRequestInfo({ direction: 'outbound', path: '/x' })).end({ status: 502, errorCode: 'ZTMESH_SIDECAR_NO_ROUTE', requestBytes: 0, responseBytes: 0 });
    expect(r.snapshot().totals).toEqual({ deny: 0, allow: 0, error: 1 });
    expect(r.snapshot().recent[0]).toMatchObject({ direction: 'outbound', code: 'ZTMESH_SIDECAR_NO_ROUTE' });
  });

  it('stores attacker-controlled text verbatim (the renderer escapes it) but bounded, and ends each scope once', () => {
    const r = new RecentDecisions();
    const scope = r.start(fakeRequestInfo({ path: `/<script>alert(1)</script>${'x'.repeat(10_000)}`, decision: deny() }));
    scope.end(DENIED);
    scope.end(DENIED);
    const [d] = r.snapshot().denials;
    expect(d!.path.startsWith('/<script>alert(1)</script>')).toBe(true);
    expect(d!.path.length).toBe(MAX_PATH_CHARS);
    expect(r.snapshot().totals.deny).toBe(1);
  });

  it('refuses a nonsensical capacity', () => {
    expect(() => new RecentDecisions({ denials: -1 })).toThrow(RangeError);
    expect(() => new RecentDecisions({ recent: 1.5 })).toThrow(RangeError);
  });
});

describe('/debug/decisions on the admin port', () => {
  it('serves the snapshot as JSON, GET only', async () => {
    const r = new RecentDecisions();
    r.start(fakeRequestInfo({ path: '/charge', decision: deny() })).end(DENIED);
    const admin = await startAdminServer({
      listen: { host: '127.0.0.1', port: 0 }, readiness: () => ({ ready: true, missing: [] }), registry: new Registry(),
      identity: () => undefined, appProbes: new Map(), logger: silentLogger(),
      routes: new Map([['/debug/decisions', jsonRoute(() => r.snapshot())]]),
    });
    try {
      const base = `http://127.0.0.1:${admin.address.port}/debug/decisions`;
      const res = await fetch(base);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = (await res.json()) as { denials: { path: string }[] };
      expect(body.denials.map((d) => d.path)).toEqual(['/charge']);
      const post = await fetch(base, { method: 'POST' });
      expect(((await post.json()) as { error: { code: string } }).error.code).toBe('ZTMESH_ADMIN_METHOD_NOT_ALLOWED');
    } finally {
      await admin.close();
    }
  });
});
