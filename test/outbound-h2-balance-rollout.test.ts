import { afterEach, describe, expect, it } from 'vitest';
import { counterValue } from './fixtures/pki-pair.ts';
import { BalanceMesh, distribution, type Backend } from './outbound-balance-mesh.ts';

// HTTP/2 and gRPC balancing per stream, retries, and rollouts through updateService, with a real
// client sidecar and real destination sidecars (mTLS on loopback).
let mesh: BalanceMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const share = (d: Record<string, number>, name: string, total: number): string => `${(((d[name] ?? 0) * 100) / total).toFixed(1)}%`;

describe('outbound HTTP/2 and gRPC balancing', () => {
  for (const grpc of [false, true]) {
    it(`${grpc ? 'gRPC' : 'h2'}: three endpoints share the streams; a slow one receives clearly less`, async () => {
      mesh = await BalanceMesh.create();
      const [a, b, c] = [await mesh.backend('a', { h2: true }), await mesh.backend('b', { h2: true }), await mesh.backend('c', { h2: true })];
      await mesh.startOutbound([a.address, b.address, c.address]);
      const even = await mesh.h2Load(300, 6, { grpc });
      const d1 = distribution(even);
      c.delayMs = 40;
      const skewed = await mesh.h2Load(300, 6, { grpc });
      const d2 = distribution(skewed);
      console.info(`${grpc ? 'gRPC' : 'h2'} 300 streams, equal endpoints: ${JSON.stringify(d1)}; c slowed to 40 ms: ${JSON.stringify(d2)} (c ${share(d2, 'c', 300)})`);
      expect(even.every((r) => r.status === 200)).toBe(true);
      expect(skewed.every((r) => r.status === 200)).toBe(true);
      for (const name of ['a', 'b', 'c']) expect(d1[name]).toBeGreaterThan(300 * 0.15);
      expect(d2.c ?? 0).toBeLessThan(Math.min(d2.a ?? 0, d2.b ?? 0) / 2);
    });
  }

  it('retries a GET answered 503 on another endpoint, not a gRPC POST; a timeout is 504 / DEADLINE_EXCEEDED', async () => {
    mesh = await BalanceMesh.create();
    const [a, b] = [await mesh.backend('a', { h2: true }), await mesh.backend('b', { h2: true })];
    a.status = 503;
    await mesh.startOutbound([a.address, b.address], 'round-robin');
    const gets = await mesh.h2Load(20, 2);
    expect(gets.every((r) => r.status === 200 && r.body === 'b')).toBe(true);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_retries_total{service="orders",endpoint="${a.address.host}:${a.address.port}",reason="gateway_error"}`)).toBe(a.received);
    // A single endpoint failing once: the gRPC call (a POST) is not replayed.
    a.status = 200;
    mesh.outbound.updateService('orders', mesh.target([a.address]));
    a.failNext = 1;
    const before = a.received;
    const call = await mesh.h2Load(1, 1, { grpc: true });
    expect(call[0]!.status).toBe(503);
    expect(a.received - before).toBe(1);
    a.delayMs = 3_000;
    mesh.outbound.updateService('orders', { ...mesh.target([a.address]), timeoutMs: 200 });
    const [slow] = await mesh.h2Load(1, 1, { grpc: true });
    expect([slow!.status, slow!.code]).toEqual([200, 'ZTMESH_BALANCE_TIMEOUT']); // trailers-only gRPC error
    const [slowGet] = await mesh.h2Load(1, 1);
    expect([slowGet!.status, slowGet!.code]).toEqual([504, 'ZTMESH_BALANCE_TIMEOUT']);
  });

  it('an h2 rollout (updateService, endpoints replaced one by one under load, old pods drained) fails no stream', async () => {
    mesh = await BalanceMesh.create();
    const m = mesh;
    let live: Backend[] = [await m.backend('v1-a', { h2: true, delayMs: 1 }), await m.backend('v1-b', { h2: true, delayMs: 1 }), await m.backend('v1-c', { h2: true, delayMs: 1 })];
    await m.startOutbound(live.map((b) => b.address));
    const steps = new Map<number, number>([[150, 0], [350, 1], [550, 2]]);
    const drains: Promise<void>[] = [];
    const results = await m.h2Load(900, 8, {
      grpc: true,
      onEach: async (i) => {
        const k = steps.get(i);
        if (k === undefined) return;
        const fresh = await m.backend(`v2-${k}`, { h2: true, delayMs: 1 });
        const old = live[k]!;
        live = live.map((b, j) => (j === k ? fresh : b));
        m.outbound.updateService('orders', m.target(live.map((b) => b.address)));
        drains.push(old.inbound.drain(2_000)); // the old pod's SIGTERM: GOAWAY, in-flight streams finish
      },
    });
    await Promise.all(drains);
    const ok = results.filter((r) => r.status === 200).length;
    console.info(`h2/gRPC rollout: ${ok}/900 succeeded (${((100 * ok) / 900).toFixed(2)}%)`, distribution(results));
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const late = distribution(results.slice(700));
    for (const name of Object.keys(late)) expect(name.startsWith('v2-')).toBe(true);
  });
});
