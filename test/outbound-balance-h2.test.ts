import { connect as h2connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { BalanceMesh } from './outbound-balance-mesh.ts';

let mesh: BalanceMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

describe('outbound HTTP/2 balancing', () => {
  it('spreads the streams of one client connection over every endpoint', async () => {
    mesh = await BalanceMesh.create();
    const [a, b, c] = [await mesh.backend('a', { h2: true }), await mesh.backend('b', { h2: true }), await mesh.backend('c', { h2: true })];
    await mesh.startOutbound([a.address, b.address, c.address]);
    const client = h2connect(`http://127.0.0.1:${mesh.outbound.address.port}`);
    client.on('error', () => undefined);
    const one = (): Promise<string> =>
      new Promise((resolve) => {
        const req = client.request({ ':method': 'GET', ':path': '/', ':authority': 'orders' });
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => resolve(Buffer.concat(chunks).toString()));
        req.on('error', () => resolve('error'));
        req.end();
      });
    const counts: Record<string, number> = {};
    for (let round = 0; round < 30; round++) {
      const got = await Promise.all([one(), one(), one(), one(), one()]);
      for (const g of got) counts[g] = (counts[g] ?? 0) + 1;
    }
    client.close();
    console.info('h2 streams over one client connection (150):', counts);
    expect(counts.error).toBeUndefined();
    for (const name of ['a', 'b', 'c']) expect(counts[name]).toBeGreaterThan(150 * 0.15);
  });

  it('an empty endpoint set answers 503 ZTMESH_BALANCE_NO_ENDPOINTS', async () => {
    mesh = await BalanceMesh.create();
    await mesh.startOutbound([]);
    const client = h2connect(`http://127.0.0.1:${mesh.outbound.address.port}`);
    client.on('error', () => undefined);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve) => {
      const req = client.request({ ':method': 'GET', ':path': '/', ':authority': 'orders' });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      req.end();
    });
    client.close();
    expect(status).toBe(503);
    expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe('ZTMESH_BALANCE_NO_ENDPOINTS');
  });
});
