import { Agent, createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { CaProcess } from './helpers/ca-process.ts';
import { httpGet, killAll, startSidecar, waitForReady, yaml, type SidecarAddresses, type ZtmeshProcess } from './helpers/sidecar-process.ts';

// Rotation under continuous traffic: a real `ztmesh ca serve` with its lower TTL bound at 30s,
// two sidecars getting 30s SVIDs (renewed every ~15s), and requests flowing the whole time.
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const ca = new CaProcess(TD);
let app: Server;

async function sidecar(name: string, body: Record<string, unknown>): Promise<{ proc: ZtmeshProcess; addr: SidecarAddresses }> {
  const tokenFile = join(ca.dir, `${name}.token`);
  const file = join(ca.dir, `${name}.yaml`);
  writeFileSync(file, yaml({
    trustDomain: TD, admin: '127.0.0.1:0', logLevel: 'info',
    identity: { ca: { address: ca.address, bundleFile: ca.bundleFile, tokenFile, ttl: '30s' } },
    ...body,
  }));
  const s = await startSidecar(file);
  return s;
}

let orders: { proc: ZtmeshProcess; addr: SidecarAddresses };
let frontend: { proc: ZtmeshProcess; addr: SidecarAddresses };

beforeAll(async () => {
  await ca.init();
  // Join tokens are created while the CA starts (process start-up dominates this test's set-up).
  const tokens = (async () => {
    writeFileSync(join(ca.dir, 'orders.token'), `${await ca.token(ORDERS)}\n`);
    writeFileSync(join(ca.dir, 'frontend.token'), `${await ca.token(FRONTEND)}\n`);
  })();
  await Promise.all([ca.serve(['--min-ttl', '30s', '--default-ttl', '1h']), tokens]);
  app = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${req.url}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const policy = join(ca.dir, 'orders-policy.yaml');
  writeFileSync(policy, yaml({
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders', namespace: 'shop' },
    spec: { rules: [{ from: [{ source: { principals: [FRONTEND] } }] }] },
  }));
  const empty = join(ca.dir, 'none.yaml');
  writeFileSync(empty, '');
  const ordersInbound = `127.0.0.1:${await freePort()}`;
  [orders, frontend] = await Promise.all([
    sidecar('orders', {
    workload: { namespace: 'shop', labels: { app: 'orders' } },
    inbound: { listen: ordersInbound, app: `127.0.0.1:${(app.address() as AddressInfo).port}` },
    outbound: { listen: '127.0.0.1:0' },
    policyFile: policy,
  }),
    sidecar('frontend', {
    workload: { namespace: 'shop', labels: { app: 'frontend' } },
    inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
    outbound: { listen: '127.0.0.1:0', services: { orders: { address: ordersInbound, identity: ORDERS } } },
    policyFile: empty,
  }),
  ]);
  await Promise.all([waitForReady(orders.addr.admin), waitForReady(frontend.addr.admin)]);
}, 120_000);

afterAll(async () => {
  await killAll();
  app?.close();
});

const renewals = (p: ZtmeshProcess) => p.logs.filter((l) => l.msg === 'identity renewed').length;

describe('certificate rotation under continuous traffic (processes)', () => {
  it('renews both SVIDs at least twice with no failed request', async () => {
    const first = JSON.parse((await httpGet(orders.addr.admin, '/debug/identity')).body) as { serial: string };
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const done = Promise.all(
      [orders.proc, frontend.proc].map((p) => {
        const base = renewals(p);
        return p.waitForLog(() => renewals(p) >= base + 2, 45_000, p.logs.length);
      }),
    );
    void done.finally(() => (stop = true));
    const worker = async (agent: Agent | false) => {
      while (!stop) {
        try {
          const res = await httpGet(frontend.addr.outbound, `/orders/${ok}`, { host: 'orders', agent });
          if (res.status === 200) ok++;
          else failures.push(`${res.status} ${res.body}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    // Pooled keep-alive clients plus one opening a new app connection per request.
    await Promise.all([worker(keepAlive), worker(keepAlive), worker(false), done]);
    keepAlive.destroy();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    const now = JSON.parse((await httpGet(orders.addr.admin, '/debug/identity')).body) as { serial: string; expired: boolean };
    expect(now.serial).not.toBe(first.serial);
    expect(now.expired).toBe(false);
    const metrics = (await httpGet(orders.addr.admin, '/metrics')).body;
    expect(metrics).toMatch(/ztmesh_identity_renewals_total\{source="ca"\} [3-9]/);
  }, 60_000);
});
