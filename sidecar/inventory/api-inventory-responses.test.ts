import { describe, expect, it } from 'vitest';
import { Registry } from '../../core/telemetry/metrics.ts';
import { fakeRequestInfo } from '../telemetry/fake-request-info.ts';
import type { BodyFraming } from '../telemetry/request-observer.ts';
import { ApiInventory } from './api-inventory.ts';

const FRONTEND = 'spiffe://mesh.test/ns/web/sa/frontend';
const BFF = 'spiffe://mesh.test/ns/web/sa/bff';

/** One request through the inventory's scope as the data plane drives it: head, body bytes, end. */
function serve(inv: ApiInventory, path: string, body: string, o: { caller?: string; status?: number; type?: string; encoded?: boolean; framing?: BodyFraming } = {}): boolean {
  const scope = inv.start(fakeRequestInfo({ path, sourcePrincipal: o.caller ?? FRONTEND }));
  const status = o.status ?? 200;
  const tap = scope.response?.(status, o.type ?? 'application/json; charset=utf-8', o.encoded ?? false, o.framing ?? 'length');
  if (tap !== undefined) {
    const buf = Buffer.from(body);
    if (tap.data(buf, 0, buf.length)) tap.end();
  }
  scope.end({ status, errorCode: undefined, requestBytes: 0, responseBytes: body.length });
  return tap !== undefined;
}

describe('ApiInventory response facts', () => {
  it('sniffs every JSON response of a route until its fields are known, then 1 in sampleOneIn', () => {
    const inv = new ApiInventory({ service: 'users', responseFields: { enabled: true, sampleOneIn: 10, maxBytes: 65_536 } });
    const sniffed = Array.from({ length: 30 }, (_, i) => serve(inv, `/users/${i}`, '{"id":1,"name":"n"}'));
    expect(sniffed.map((s, i) => (s ? i : -1)).filter((i) => i >= 0)).toEqual([0, 10, 20]); // the first, then 1 in 10
    expect(sniffed[0]).toBe(true);
    const api = inv.snapshot().apis[0]!;
    expect(api.responseFields).toEqual({ id: 'number', name: 'string' });
    expect(api.responseContentTypes).toEqual(['application/json']);
  });

  it('sniffs neither content-encoded, non-JSON, bodiless nor non-2xx responses, but records their content types', () => {
    const inv = new ApiInventory({ service: 'users' });
    expect(serve(inv, '/a', '{"x":1}', { encoded: true })).toBe(false);
    expect(serve(inv, '/b', 'hello', { type: 'text/plain' })).toBe(false);
    expect(serve(inv, '/c', '', { framing: 'none' })).toBe(false);
    expect(serve(inv, '/d', '{"error":"no"}', { status: 404 })).toBe(false);
    expect(serve(inv, '/e', '{"x":1}', { type: 'application/problem+json' })).toBe(true);
    expect(inv.snapshot().apis.map((a) => [a.route, a.responseContentTypes, Object.keys(a.responseFields)])).toEqual([
      ['/a', ['application/json'], []],
      ['/b', ['text/plain'], []],
      ['/c', ['application/json'], []],
      ['/d', ['application/json'], []],
      ['/e', ['application/problem+json'], ['x']],
    ]);
  });

  it('flags sensitive fields and names every caller that received them, also between samples', () => {
    const inv = new ApiInventory({ service: 'users', responseFields: { enabled: true, sampleOneIn: 1000, maxBytes: 65_536 } });
    serve(inv, '/users/1', '{"id":1,"email":"a@b.c","cardNumber":"4111"}');
    serve(inv, '/users/2', '{"id":1,"email":"a@b.c","cardNumber":"4111"}', { caller: BFF }); // not sniffed: the route is known
    serve(inv, '/users/3', '{"error":"x"}', { caller: 'spiffe://mesh.test/ns/web/sa/denied', status: 403 });
    const api = inv.snapshot().apis[0]!;
    expect(api.sensitive).toEqual(['cardNumber', 'email']);
    expect(api.sensitiveCallers).toEqual([BFF, FRONTEND]);
  });

  it('counts malformed and truncated bodies on the route and in ztmesh_inventory_json_sniffs_total', () => {
    const registry = new Registry();
    const inv = new ApiInventory({ service: 'users', registry });
    serve(inv, '/broken', '{"id":1,,}');
    serve(inv, '/broken', '{"id":');
    serve(inv, '/fine', '{"id":1}');
    const broken = inv.snapshot().apis.find((a) => a.route === '/broken')!;
    expect(broken.malformedBodies).toBe(2);
    expect(broken.responseFields).toEqual({});
    const text = registry.render();
    expect(text).toContain('ztmesh_inventory_json_sniffs_total{result="malformed"} 1');
    expect(text).toContain('ztmesh_inventory_json_sniffs_total{result="truncated"} 1');
    expect(text).toContain('ztmesh_inventory_json_sniffs_total{result="fields"} 1');
  });

  it('bounds the field set per route', () => {
    const inv = new ApiInventory({ service: 'users', maxResponseFields: 5, responseFields: { enabled: true, sampleOneIn: 1, maxBytes: 65_536 } });
    for (let i = 0; i < 10; i++) serve(inv, '/wide', JSON.stringify(Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`f${i}_${k}`, k]))));
    expect(Object.keys(inv.snapshot().apis[0]!.responseFields)).toHaveLength(5);
  });
});
