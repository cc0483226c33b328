import { describe, expect, it } from 'vitest';
import { fakeRequestInfo } from '../telemetry/fake-request-info.ts';
import { ApiInventory } from './api-inventory.ts';
import { sniffJsonFields } from './json-fields.ts';

const FRONTEND = 'spiffe://mesh.test/ns/web/sa/frontend';
const ADMIN = 'spiffe://mesh.test/ns/ops/sa/admin';

function serve(inv: ApiInventory, method: string, path: string, status: number, caller = FRONTEND, headers: Record<string, string> = {}): void {
  inv.start(fakeRequestInfo({ method, path, sourcePrincipal: caller, headers })).end({ status, errorCode: undefined, requestBytes: 0, responseBytes: 10 });
}

describe('ApiInventory', () => {
  it('records per (method, route template): callers, count, status classes, times, content types', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const inv = new ApiInventory({ service: 'items', now: () => t });
    serve(inv, 'GET', '/users/17', 200);
    t += 1000;
    serve(inv, 'GET', '/users/42', 404, ADMIN);
    serve(inv, 'POST', '/users', 201, FRONTEND, { 'content-type': 'application/json; charset=utf-8' });
    const snap = inv.snapshot();
    expect(snap.apis.map((a) => `${a.method} ${a.route} ${a.count}`)).toEqual(['POST /users 1', 'GET /users/{id} 2']);
    const users = snap.apis[1]!;
    expect(users.callers).toEqual([FRONTEND, ADMIN].sort());
    expect(users.statusClasses).toEqual({ '2xx': 1, '4xx': 1 });
    expect(users.firstSeen).toBe('2026-01-01T00:00:00.000Z');
    expect(users.lastSeen).toBe('2026-01-01T00:00:01.000Z');
    expect(snap.apis[0]!.requestContentTypes).toEqual(['application/json']);
    expect(users.declared).toBe(false);
  });

  it('ignores outbound requests and records a request once even if end is called twice', () => {
    const inv = new ApiInventory({ service: 'items' });
    inv.start(fakeRequestInfo({ direction: 'outbound' })).end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    const scope = inv.start(fakeRequestInfo({ path: '/a' }));
    scope.end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    scope.end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(inv.snapshot().apis.map((a) => [a.route, a.count])).toEqual([['/a', 1]]);
  });

  it('flags sensitive response fields and counts malformed bodies', () => {
    const inv = new ApiInventory({ service: 'accounts' });
    serve(inv, 'GET', '/accounts/7', 200);
    inv.recordResponse('GET', '/accounts/7', 'application/json', sniffJsonFields('{"id":7,"email":"x@y.z","iban":"DE00","balance":3}'));
    inv.recordResponse('GET', '/accounts/8', 'application/json', sniffJsonFields('{"id":'));
    inv.recordResponse('GET', '/never/seen', 'application/json', sniffJsonFields('{"password":"x"}'));
    const [api] = inv.snapshot().apis;
    expect(api!.responseFields).toEqual({ balance: 'number', email: 'string', iban: 'string', id: 'number' });
    expect(api!.sensitive).toEqual(['email', 'iban']);
    expect(api!.responseContentTypes).toEqual(['application/json']);
    expect(api!.malformedBodies).toBe(1);
    expect(inv.size).toBe(1);
  });

  it('caps routes and callers, counting the overflow', () => {
    const inv = new ApiInventory({ service: 's', maxRoutes: 10, maxCallersPerRoute: 2 });
    for (let i = 0; i < 1000; i++) serve(inv, 'GET', `/probe-${i.toString(36)}x/admin.php`, 404);
    for (let i = 0; i < 5; i++) serve(inv, 'GET', '/probe-0x/admin.php', 404, `spiffe://mesh.test/ns/x/sa/c${i}`);
    expect(inv.size).toBe(10);
    expect(inv.overflow).toBe(990);
    const snap = inv.snapshot();
    expect(snap.overflow).toBe(990);
    expect(snap.apis).toHaveLength(10);
    const first = snap.apis.find((a) => a.route === '/probe-0x/admin.php')!;
    expect(first.callers).toHaveLength(2);
    expect(first.callersOverflow).toBe(4);
  });

  it('reports declared routes: declared flag, shadow (undeclared) and zombie (never called)', () => {
    const inv = new ApiInventory({
      service: 'users',
      declared: [{ method: 'GET', route: '/users/{userId}' }, { method: 'DELETE', route: '/users/{userId}' }, { method: 'GET', route: '/health' }],
    });
    serve(inv, 'GET', '/users/17', 200);
    serve(inv, 'GET', '/users/me', 200);
    serve(inv, 'GET', '/debug/vars', 200);
    const snap = inv.snapshot();
    expect(Object.fromEntries(snap.apis.map((a) => [a.route, a.declared]))).toEqual({ '/debug/vars': false, '/users/me': true, '/users/{id}': true });
    expect(snap.zombies).toEqual([{ method: 'DELETE', route: '/users/{id}' }, { method: 'GET', route: '/health' }]);
  });
});
