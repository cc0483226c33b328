import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshClient } from '../mesh-client.ts';
import { startFakeOutbound } from '../testing/fake-mesh.ts';
import { workloadIdentity } from '../topology.ts';
import { startApp, type DemoApp } from './app-server.ts';
import { frontendHandler, type FrontendView } from './frontend-app.ts';
import { ordersHandler } from './orders-app.ts';
import { paymentsHandler } from './payments-app.ts';

const FRONTEND = workloadIdentity('frontend');
const ORDERS = workloadIdentity('orders');
const PAYMENTS = workloadIdentity('payments');

function get(port: number, path: string, accept: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { accept } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('demo apps behind a fake outbound', () => {
  const closers: (() => Promise<void> | void)[] = [];
  let frontend: DemoApp;

  beforeAll(async () => {
    const errors: unknown[] = [];
    const payments = await startApp('payments', '127.0.0.1', 0, paymentsHandler(PAYMENTS), (e) => errors.push(e));
    const paymentsRoute = { port: payments.port, allow: [ORDERS] };
    const ordersOut = await startFakeOutbound(ORDERS, { payments: paymentsRoute });
    const ordersClient = new MeshClient({ outboundPort: ordersOut.port });
    const orders = await startApp('orders', '127.0.0.1', 0, ordersHandler(ORDERS, ordersClient), (e) => errors.push(e));
    const frontendOut = await startFakeOutbound(FRONTEND, { orders: { port: orders.port, allow: [FRONTEND] }, payments: paymentsRoute });
    const frontendClient = new MeshClient({ outboundPort: frontendOut.port });
    frontend = await startApp('frontend', '127.0.0.1', 0, frontendHandler(FRONTEND, frontendClient), (e) => errors.push(e));
    closers.push(
      () => frontend.close(),
      () => frontendOut.close(),
      () => frontendClient.close(),
      () => orders.close(),
      () => ordersOut.close(),
      () => ordersClient.close(),
      () => payments.close(),
    );
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('frontend reports each call with status, callee identity, the caller the callee saw, and the refusal code', async () => {
    const res = await get(frontend.port, '/', 'application/json');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    const view = JSON.parse(res.body) as FrontendView;
    expect(view.identity).toBe(FRONTEND);
    const [toOrders, toPayments] = view.calls;
    expect(toOrders).toMatchObject({ to: 'orders', method: 'GET', path: '/orders', status: 200, identity: ORDERS, caller: FRONTEND, error: null });
    expect(toOrders!.calls).toEqual([expect.objectContaining({ to: 'payments', method: 'POST', path: '/charge', status: 200, identity: PAYMENTS, caller: ORDERS })]);
    expect(toPayments).toMatchObject({ to: 'payments', method: 'POST', path: '/charge', status: 403, identity: null, error: 'ZTMESH_SIDECAR_DENIED' });
    expect(toOrders!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('a browser gets the HTML page', async () => {
    const res = await get(frontend.port, '/', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.body).toContain('403 denied');
    expect(res.body).toContain(ORDERS);
  });

  it('other paths make no calls and answer 404', async () => {
    const res = await get(frontend.port, '/favicon.ico', '*/*');
    expect(res.status).toBe(404);
  });

  it('a sidecar that is not there is reported as the socket error, not a crash', async () => {
    const client = new MeshClient({ outboundPort: 1, timeoutMs: 2000 });
    const call = await client.call('orders', 'GET', '/orders');
    client.close();
    expect(call).toMatchObject({ to: 'orders', status: null, error: 'ECONNREFUSED' });
  });
});
