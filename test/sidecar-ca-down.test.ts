import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { CaProcess } from './helpers/ca-process.ts';
import { httpGet, killAll, metricValue, startSidecar, waitForReady, yaml, type SidecarAddresses, type ZtmeshProcess } from './helpers/sidecar-process.ts';

// The CA goes away: the sidecar keeps serving on its valid 30s SVID while retrying with backoff,
// and once the SVID expires it refuses connections and reports not ready (fail closed).
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const ca = new CaProcess(TD);
let app: Server;
let orders: { proc: ZtmeshProcess; addr: SidecarAddresses };
let frontend: { proc: ZtmeshProcess; addr: SidecarAddresses };

beforeAll(async () => {
  await ca.init();
  const bundleFile = ca.bundleFile;
  const tokenFile = join(ca.dir, 'orders.token');
  await Promise.all([
    ca.serve(['--min-ttl', '30s', '--default-ttl', '1h']),
    // The client side has a long-lived SVID from files, so only the server side depends on the CA.
    ca.mint(FRONTEND, join(ca.dir, 'frontend.pem'), join(ca.dir, 'frontend-key.pem')),
    ca.token(ORDERS).then((t) => writeFileSync(tokenFile, t)),
  ]);
  app = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const policy = join(ca.dir, 'policy.yaml');
  writeFileSync(policy, yaml({
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders', namespace: 'shop' },
    spec: { rules: [{ from: [{ source: { principals: [FRONTEND] } }] }] },
  }));
  const ordersInbound = `127.0.0.1:${await freePort()}`;
  writeFileSync(join(ca.dir, 'orders.yaml'), yaml({
    trustDomain: TD, admin: '127.0.0.1:0', workload: { namespace: 'shop', labels: { app: 'orders' } },
    identity: { ca: { address: ca.address, bundleFile, tokenFile, ttl: '30s' } },
    inbound: { listen: ordersInbound, app: `127.0.0.1:${(app.address() as AddressInfo).port}` },
    outbound: { listen: '127.0.0.1:0' }, policyFile: policy,
  }));
  writeFileSync(join(ca.dir, 'frontend.yaml'), yaml({
    trustDomain: TD, admin: '127.0.0.1:0', workload: { namespace: 'shop', labels: { app: 'frontend' } },
    identity: { certFile: 'frontend.pem', keyFile: 'frontend-key.pem', bundleFile: 'bundle.pem' },
    inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
    outbound: { listen: '127.0.0.1:0', services: { orders: { address: ordersInbound, identity: ORDERS } } },
    policyFile: policy,
  }));
  [orders, frontend] = await Promise.all([startSidecar(join(ca.dir, 'orders.yaml')), startSidecar(join(ca.dir, 'frontend.yaml'))]);
  await Promise.all([waitForReady(orders.addr.admin), waitForReady(frontend.addr.admin)]);
}, 120_000);

afterAll(async () => {
  await killAll();
  app?.close();
});

/** A fresh mTLS handshake to `address` as the frontend: 'connected', or the error code. */
function tlsHandshake(address: string): Promise<string> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({
      host: address.slice(0, colon), port: Number(address.slice(colon + 1)), servername: 'orders',
      cert: readFileSync(join(ca.dir, 'frontend.pem')), key: readFileSync(join(ca.dir, 'frontend-key.pem')), ca: readFileSync(join(ca.dir, 'bundle.pem')),
      minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined,
    });
    socket.on('secureConnect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('the CA is down (processes)', () => {
  it('serves on the valid SVID while retrying with backoff, then fails closed at expiry', async () => {
    await ca.server!.stop('SIGKILL');
    const identity = JSON.parse((await httpGet(orders.addr.admin, '/debug/identity')).body) as { notAfter: string };
    const notAfter = Date.parse(identity.notAfter);
    expect((await httpGet(frontend.addr.outbound, '/a', { host: 'orders' })).status).toBe(200);

    // Renewal (at ~50% of the lifetime) fails; retries back off while the certificate stays in use.
    const failed = await orders.proc.waitForLog((l) => l.msg === 'SVID renewal failed; serving on the current certificate', 30_000);
    expect(failed['code']).toBe('ZTMESH_CA_RPC_FAILED');
    await orders.proc.waitForLog((l) => l.msg === 'SVID renewal failed; serving on the current certificate' && (l['attempt'] as number) >= 3, 30_000);
    const retries = orders.proc.logs.filter((l) => l.msg === 'SVID renewal failed; serving on the current certificate').map((l) => l['retryInMs'] as number);
    expect(retries[2]!).toBeGreaterThan(retries[0]!);
    if (Date.now() < notAfter - 1000) {
      expect((await httpGet(frontend.addr.outbound, '/b', { host: 'orders' })).status).toBe(200);
      expect((await httpGet(orders.addr.admin, '/ready')).status).toBe(200);
    }

    // After notAfter: not ready, and new connections are refused.
    const notReady = await waitForReady(orders.addr.admin, 503, Math.max(0, notAfter - Date.now()) + 10_000);
    expect(JSON.parse(notReady.body).missing).toContain('identity');
    expect(Date.now()).toBeGreaterThanOrEqual(notAfter);
    await orders.proc.waitForLog((l) => l.msg === 'SVID expired: refusing new connections until the CA issues a new one', 5000);
    // A new mTLS connection (what a peer opens after its pooled ones close) is refused.
    const handshake = await tlsHandshake(orders.addr.inbound);
    expect(handshake).not.toBe('connected');
    const metrics = (await httpGet(orders.addr.admin, '/metrics')).body;
    expect(metricValue(metrics, 'ztmesh_certificate_expiry_timestamp_seconds')).toBe(0);
    expect(metricValue(metrics, 'ztmesh_identity_renewal_failures_total{source="ca",code="ZTMESH_CA_RPC_FAILED"}')).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
