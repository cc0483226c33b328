import { afterEach, describe, expect, it } from 'vitest';
import { BalanceMesh, distribution } from './outbound-balance-mesh.ts';
import { counterValue } from './fixtures/pki-pair.ts';

// Timeouts, retries under a budget, and outlier ejection on gateway errors, through a real client
// sidecar and real destination sidecars (mTLS on loopback).
let mesh: BalanceMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const endpoint = (hp: { host: string; port: number }): string => `${hp.host}:${hp.port}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('outbound HTTP/1.1 timeouts and retries', () => {
  it('a service timeout answers 504 ZTMESH_BALANCE_TIMEOUT, counted for the slow endpoint', async () => {
    mesh = await BalanceMesh.create();
    const slow = await mesh.backend('slow', { delayMs: 3_000 });
    await mesh.startOutbound([slow.address], 'p2c-ewma', [], { timeoutMs: 200, retry: { attempts: 0, budgetRatio: 0.2, minRetriesPerSecond: 10 } });
    const r = await mesh.request();
    expect([r.status, r.code]).toEqual([504, 'ZTMESH_BALANCE_TIMEOUT']);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_timeouts_total{service="orders",endpoint="${endpoint(slow.address)}"}`)).toBe(1);
    // A route override gives one path more time than the service.
    slow.delayMs = 50;
    mesh.outbound.updateService('orders', { ...mesh.target([slow.address]), timeoutMs: 1, routes: [{ pathPrefix: '/orders', timeoutMs: 10_000, retryable: false }] });
    expect((await mesh.request()).status).toBe(200);
  });

  it('retries an idempotent GET answered 503 on another endpoint; a POST is not retried', async () => {
    mesh = await BalanceMesh.create();
    const [a, b] = [await mesh.backend('a'), await mesh.backend('b')];
    a.status = 503;
    await mesh.startOutbound([a.address, b.address], 'round-robin');
    const gets = await mesh.load(40, 2);
    const ok = gets.filter((r) => r.status === 200).length;
    console.info(`GETs with endpoint a answering 503: ${ok}/40 succeeded, distribution ${JSON.stringify(distribution(gets))}, a received ${a.received}`);
    expect(ok).toBe(40);
    expect(a.received).toBeGreaterThan(0);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_retries_total{service="orders",endpoint="${endpoint(a.address)}",reason="gateway_error"}`)).toBe(a.received);

    // One endpoint that fails the next request: a GET is replayed (twice received), a bodiless POST is not.
    const c = await mesh.backend('c');
    mesh.outbound.updateService('orders', mesh.target([c.address]));
    c.failNext = 1;
    expect((await mesh.request()).status).toBe(200);
    expect(c.received).toBe(2);
    c.failNext = 1;
    const post = await mesh.request(undefined, 'POST');
    expect(post.status).toBe(503);
    expect(c.received).toBe(3);
    // A PUT (idempotent) with a small body is replayed whole; a POST with a body is not.
    c.failNext = 1;
    expect((await mesh.request('{"order":1}', 'PUT')).status).toBe(200);
    expect(c.received).toBe(5);
    c.failNext = 1;
    expect((await mesh.request('{"order":1}', 'POST')).status).toBe(503);
    expect(c.received).toBe(6);
  });

  it('a route marked retryable retries a POST', async () => {
    mesh = await BalanceMesh.create();
    const a = await mesh.backend('a');
    await mesh.startOutbound([a.address], 'p2c-ewma', [], { routes: [{ pathPrefix: '/orders', retryable: true }] });
    a.failNext = 1;
    expect((await mesh.request(undefined, 'POST')).status).toBe(200);
    expect(a.received).toBe(2);
  });

  it('the retry budget caps retries when every endpoint fails', async () => {
    mesh = await BalanceMesh.create();
    const backends = [await mesh.backend('a'), await mesh.backend('b'), await mesh.backend('c')];
    for (const b of backends) b.status = 503;
    await mesh.startOutbound(backends.map((b) => b.address), 'p2c-ewma', [], { retry: { attempts: 2, budgetRatio: 0.2, minRetriesPerSecond: 0 } });
    const results = await mesh.load(200, 4);
    const routed = results.filter((r) => r.code !== 'ZTMESH_BALANCE_NO_ENDPOINTS').length;
    const received = backends.reduce((n, b) => n + b.received, 0);
    const retries = counterValue(mesh.metrics, 'ztmesh_retries_total{service="orders",reason="gateway_error"}') ?? 0;
    const exhausted = counterValue(mesh.metrics, 'ztmesh_retry_budget_exhausted_total{service="orders"}') ?? 0;
    console.info(`all endpoints 503: ${routed} requests reached the balancer, apps received ${received}, retries ${retries}, budget refusals ${exhausted}`);
    expect(results.every((r) => r.status === 503)).toBe(true);
    expect(received).toBe(routed + retries);
    expect(retries).toBeLessThanOrEqual(Math.ceil(routed * 0.2) + 1); // without the budget: up to 2 per request
    expect(exhausted).toBeGreaterThan(0);
  });

  it('ejects an endpoint that keeps answering 5xx and probes it back in once it recovers', async () => {
    mesh = await BalanceMesh.create();
    const [a, b] = [await mesh.backend('a'), await mesh.backend('b')];
    a.status = 503;
    await mesh.startOutbound([a.address, b.address], 'round-robin');
    const first = await mesh.load(40, 1);
    expect(first.every((r) => r.status === 200)).toBe(true); // retried on b
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_ejections_total{service="orders",endpoint="${endpoint(a.address)}"}`)).toBeGreaterThanOrEqual(1);
    const whileEjected = a.received;
    a.status = 200;
    let probedBack = false;
    for (let i = 0; i < 40 && !probedBack; i++) {
      await sleep(200);
      await mesh.load(5, 1);
      probedBack = distribution(await mesh.load(10, 1)).a !== undefined;
    }
    console.info(`5xx ejection: a received ${whileEjected} requests while failing, then was probed back: ${probedBack}`);
    expect(whileEjected).toBeLessThan(40);
    expect(probedBack).toBe(true);
  });
});
