import { afterEach, describe, expect, it } from 'vitest';
import { counterValue } from './fixtures/pki-pair.ts';
import { BalanceMesh, distribution, type Backend } from './outbound-balance-mesh.ts';

let mesh: BalanceMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

describe('outbound endpoint rollout', () => {
  it('replacing the endpoints one by one under load (updateService, then the old pod drains) fails no request', async () => {
    mesh = await BalanceMesh.create();
    const m = mesh;
    let live: Backend[] = [await m.backend('v1-a', { delayMs: 1 }), await m.backend('v1-b', { delayMs: 1 }), await m.backend('v1-c', { delayMs: 1 })];
    await m.startOutbound(live.map((b) => b.address));
    const steps = new Map<number, number>([[150, 0], [350, 1], [550, 2]]);
    const results = await m.load(900, 8, async (i) => {
      const k = steps.get(i);
      if (k === undefined) return;
      const fresh = await m.backend(`v2-${k}`, { delayMs: 1 });
      const old = live[k]!;
      live = live.map((b, j) => (j === k ? fresh : b));
      m.outbound.updateService('orders', m.target(live.map((b) => b.address)));
      // The old pod gets SIGTERM after leaving the endpoint set: it answers in-flight requests with Connection: close.
      await old.inbound.drain(2_000);
    });
    const ok = results.filter((r) => r.status === 200).length;
    console.info(`rollout: ${ok}/900 succeeded (${((100 * ok) / 900).toFixed(2)}%)`, distribution(results));
    expect(ok).toBe(900);
    const late = distribution(results.slice(700));
    for (const name of Object.keys(late)) expect(name.startsWith('v2-')).toBe(true);
  });

  it('the old pod draining before it leaves the endpoint set still fails no request', async () => {
    mesh = await BalanceMesh.create();
    const m = mesh;
    const [a, b, c] = [await m.backend('a', { delayMs: 1 }), await m.backend('b', { delayMs: 1 }), await m.backend('c', { delayMs: 1 })];
    await m.startOutbound([a.address, b.address, c.address]);
    const results = await m.load(600, 8, async (i) => {
      if (i === 200) void b.inbound.drain(2_000); // SIGTERM first: refuses new connections, closes kept-alive ones after their exchange
      if (i === 400) m.outbound.updateService('orders', m.target([a.address, c.address]));
    });
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
  });

  it('a flapping endpoint set keeps the connections of endpoints still present', async () => {
    mesh = await BalanceMesh.create();
    const m = mesh;
    const [a, b] = [await m.backend('a'), await m.backend('b')];
    await m.startOutbound([a.address]);
    await m.load(50, 4);
    const accepted = (): number => counterValue(a.metrics, 'ztmesh_sidecar_connections_total{direction="inbound"}');
    const before = accepted();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 200; i++) {
      m.outbound.updateService('orders', m.target(i % 2 === 0 ? [a.address, b.address] : [a.address]));
    }
    const results = await m.load(100, 4);
    expect(results.every((r) => r.status === 200 && r.body === 'a')).toBe(true);
    // No connection to a was reset and replaced: the connections made before the flapping served everything.
    expect(accepted()).toBe(before);
    expect(m.outbound.removeEndpoint('orders', `${a.address.host}:${a.address.port}`)).toBe(true);
    const r = await m.request();
    expect([r.status, r.code]).toEqual([503, 'ZTMESH_BALANCE_NO_ENDPOINTS']);
  });
});
