import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { counterValue } from './fixtures/pki-pair.ts';
import { BalanceMesh, distribution } from './outbound-balance-mesh.ts';

let mesh: BalanceMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

describe('outbound HTTP/1.1 balancing over several endpoints', () => {
  it('three equal endpoints share the traffic evenly, per request over kept-alive connections', async () => {
    mesh = await BalanceMesh.create();
    const [a, b, c] = [await mesh.backend('a'), await mesh.backend('b'), await mesh.backend('c')];
    await mesh.startOutbound([a.address, b.address, c.address]);
    const results = await mesh.load(600, 6);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const d = distribution(results);
    console.info('even distribution over 3 endpoints (600 requests):', d);
    // Latency-aware: a GC pause or a busy CI core skews a share for a while; an even share is 200.
    for (const name of ['a', 'b', 'c']) expect(d[name], JSON.stringify(d)).toBeGreaterThan(600 * 0.15);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_requests_total{service="orders",endpoint="${formatEndpoint(a.address)}",status_class="2xx"}`)).toBe(d.a);
  });

  it('a slow endpoint (app delays 50 ms) receives clearly less', async () => {
    mesh = await BalanceMesh.create();
    const [a, b, slow] = [await mesh.backend('a'), await mesh.backend('b'), await mesh.backend('slow', { delayMs: 50 })];
    await mesh.startOutbound([a.address, b.address, slow.address]);
    const results = await mesh.load(600, 6);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const d = distribution(results);
    console.info('distribution with one 50 ms endpoint (600 requests):', d);
    expect(d.slow ?? 0).toBeLessThan(600 * 0.15); // an even share would be a third
    expect(d.a).toBeGreaterThan(600 * 0.3);
    expect(d.b).toBeGreaterThan(600 * 0.3);
  });

  it('round-robin, when configured, ignores latency', async () => {
    mesh = await BalanceMesh.create();
    const [a, slow] = [await mesh.backend('a'), await mesh.backend('slow', { delayMs: 20 })];
    await mesh.startOutbound([a.address, slow.address], 'round-robin');
    const d = distribution(await mesh.load(100, 1));
    expect(d).toEqual({ a: 50, slow: 50 });
  });

  it('killing an endpoint under load loses no request that had not reached an app', async () => {
    mesh = await BalanceMesh.create();
    const [a, b, c] = [await mesh.backend('a', { delayMs: 2 }), await mesh.backend('b', { delayMs: 2 }), await mesh.backend('c', { delayMs: 2 })];
    await mesh.startOutbound([a.address, b.address, c.address]);
    let inFlightAtKill = -1;
    const results = await mesh.load(900, 8, async (i) => {
      if (i === 300) {
        inFlightAtKill = b.inFlight;
        await b.stop();
      }
    });
    const failed = results.filter((r) => r.status !== 200);
    console.info(`kill under load: ${failed.length} of 900 failed, ${inFlightAtKill} were in b's app at the kill`, distribution(results));
    expect(failed.length).toBeLessThanOrEqual(inFlightAtKill);
    const late = distribution(results.slice(400));
    expect(late.b ?? 0).toBe(0);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_ejections_total{service="orders",endpoint="${formatEndpoint(b.address)}"}`)).toBeGreaterThanOrEqual(1);
  });

  it('an endpoint presenting another identity is refused, ejected and never reaches its app', async () => {
    mesh = await BalanceMesh.create();
    const [a, b, evil] = [await mesh.backend('a'), await mesh.backend('b'), await mesh.backend('evil', { sa: 'evil' })];
    await mesh.startOutbound([a.address, evil.address, b.address]);
    const results = await mesh.load(300, 4);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(evil.received).toBe(0);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_ejections_total{service="orders",endpoint="${formatEndpoint(evil.address)}"}`)).toBeGreaterThanOrEqual(1);
    expect(counterValue(mesh.metrics, 'ztmesh_retries_total{service="orders",reason="wrong_identity"}')).toBeGreaterThanOrEqual(1);
  });

  it('a refused connection moves even a POST with a body to another endpoint (nothing was sent)', async () => {
    mesh = await BalanceMesh.create();
    const a = await mesh.backend('a');
    const dead = await freePort();
    await mesh.startOutbound([{ host: '127.0.0.1', port: dead }, a.address], 'round-robin');
    for (let i = 0; i < 10; i++) {
      const r = await mesh.request('{"order":1}');
      expect([r.status, r.body]).toEqual([200, 'a']);
    }
    expect(counterValue(mesh.metrics, 'ztmesh_retries_total{service="orders",reason="connect_failure"}')).toBeGreaterThanOrEqual(1);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_ejections_total{service="orders",endpoint="127.0.0.1:${dead}"}`)).toBeGreaterThanOrEqual(1);
  });

  it('an empty endpoint set answers 503 ZTMESH_BALANCE_NO_ENDPOINTS at once', async () => {
    mesh = await BalanceMesh.create();
    await mesh.startOutbound([]);
    const started = Date.now();
    const r = await mesh.request();
    expect(r.status).toBe(503);
    expect(r.code).toBe('ZTMESH_BALANCE_NO_ENDPOINTS');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function formatEndpoint(hp: { host: string; port: number }): string {
  return `${hp.host}:${hp.port}`;
}
