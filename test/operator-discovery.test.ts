import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities, type MeshIdentities } from '../operator/testing/mesh-identities.ts';
import { startOperatorFixture } from '../operator/testing/operator-fixture.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/testing/operator-process.ts';
import { httpGet, killAll, metricValue, startSidecar, writeIdentityFiles, writeSidecarConfig, type HttpResult, type SidecarAddresses, type ZtmeshProcess } from './helpers/sidecar-process.ts';

/**
 * Endpoint discovery end to end: the real `ztmesh operator` process watches Services,
 * EndpointSlices and Pods in the fake API server and pushes each real `ztmesh sidecar` process
 * the endpoints of the Services it may call, each with the identity of its pod's service account.
 * All pods live on 127.0.0.1: an endpoint's port is that pod's sidecar inbound listener (in a
 * cluster, iptables sends podIP:targetPort there).
 */
const TD = 'example.org';
const ORDERS_ID = `spiffe://${TD}/ns/shop/sa/orders`;
let ids: MeshIdentities;
let api: FakeKubeApiServer;
let dir: string;
let operator: OperatorProcess | undefined;
const apps: Server[] = [];
type Name = 'orders-1' | 'orders-2' | 'impostor' | 'web';
const sidecars = {} as Record<Name, { proc: ZtmeshProcess; addr: SidecarAddresses }>;

function pod(name: string, sa: string, app: string) {
  return { metadata: { name, namespace: 'shop', labels: { app }, annotations: { 'ztmesh.io/status': '{"version":"test"}' } }, spec: { serviceAccountName: sa, containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] }, status: { phase: 'Running', podIP: '127.0.0.1' } };
}

/** One EndpointSlice per pod: each pod's "target port" is its own sidecar's inbound port here. */
function slice(service: string, podName: string, port: number, conditions: Record<string, boolean> = { ready: true }) {
  return {
    metadata: { name: `${service}-${podName}`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions, targetRef: { kind: 'Pod', name: podName, namespace: 'shop' } }],
  };
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

async function app(body: string): Promise<number> {
  const server = createServer((req, res) => {
    const answer = () => res.end(`${body} ${req.headers['x-ztmesh-peer-identity'] ?? '-'}`);
    // /slow makes the known endpoints slower than the balancer's default estimate for a new one.
    if (req.url === '/slow') setTimeout(answer, 60);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  apps.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function sidecar(name: Name, sa: string, podName: string, appPort: number): Promise<void> {
  const identity = await writeIdentityFiles(ids.ca, dir, name, `spiffe://${TD}/ns/shop/sa/${sa}`);
  const file = writeSidecarConfig(dir, TD, name, {
    workload: { namespace: 'shop', name: podName, labels: { app: sa } },
    identity,
    inbound: { listen: '127.0.0.1:0', app: `127.0.0.1:${appPort}` },
    outbound: { listen: '127.0.0.1:0' },
    control: { address: `127.0.0.1:${operator!.distributionPort}`, podName },
  }, '1s');
  sidecars[name] = await startSidecar(file);
}

/** A request from web's app through web's outbound listener. */
function call(host: string, path = '/', agent?: Agent): Promise<HttpResult> {
  return httpGet(sidecars.web.addr.outbound, path, { host, ...(agent !== undefined ? { agent } : {}) });
}

interface DiscoveryView {
  version: string | null;
  routes: { name: string; identity: string; endpoints: string[] }[];
}
async function discoveryAt(name: Name): Promise<DiscoveryView> {
  return JSON.parse((await httpGet(sidecars[name].addr.admin, '/debug/discovery')).body) as DiscoveryView;
}
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const route = (v: DiscoveryView, name: string) => v.routes.find((r) => r.name === name);
async function inboundConnections(name: Name): Promise<number> {
  return metricValue((await httpGet(sidecars[name].addr.admin, '/metrics')).body, 'ztmesh_sidecar_connections_total{direction="inbound"}') ?? 0;
}

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
  dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-discovery-'));
  const fixture = await startOperatorFixture(dir, ids, TD);
  api = fixture.api;
  api.apply('namespaces', { metadata: { name: 'shop', labels: { 'ztmesh.io/inject': 'enabled' } } });
  api.apply('namespaces', { metadata: { name: 'ztmesh-system' } });
  for (const sa of ['orders', 'web', 'impostor', 'pay']) api.apply('serviceaccounts', { metadata: { name: sa, namespace: 'shop' } });
  for (const [name, sa, label] of [['orders-1', 'orders', 'orders'], ['orders-2', 'orders', 'orders'], ['orders-3', 'orders', 'orders'], ['impostor-1', 'impostor', 'orders'], ['web-1', 'web', 'web'], ['pay-1', 'pay', 'pay']] as const) {
    api.apply('pods', pod(name, sa, label));
  }
  api.apply('authorizationpolicies', {
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders-allow-web', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'orders' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [`${TD}/ns/shop/sa/web`] } }] }] },
  });
  operator = await startOperatorProcess([...fixture.args, '--distribution-listen', '127.0.0.1:0']);
  await sidecar('orders-1', 'orders', 'orders-1', await app('orders-1'));
  await sidecar('orders-2', 'orders', 'orders-2', await app('orders-2'));
  // Runs as service account "impostor"; the EndpointSlice will say its address is pod orders-3's.
  await sidecar('impostor', 'impostor', 'impostor-1', await app('impostor'));
  await sidecar('web', 'web', 'web-1', await app('web'));
}, 120_000);

afterAll(async () => {
  await killAll();
  await operator?.stop();
  await api?.close();
  for (const s of apps) s.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('endpoint discovery: operator → real sidecars → real traffic', () => {
  it('endpoints added in the API reach the client sidecar with their pod\'s identity, and traffic reaches them by every cluster name', async () => {
    api.apply('services', { metadata: { name: 'orders', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } });
    api.apply('endpointslices', slice('orders', 'orders-1', portOf(sidecars['orders-1'].addr.inbound)));
    const first = await until(() => call('orders'), (r) => r.status === 200, 'orders-1 through discovery', 30_000);
    // orders-1's app answers; its sidecar verified web as the caller.
    expect(first.body).toBe(`orders-1 spiffe://${TD}/ns/shop/sa/web`);
    const view = await discoveryAt('web');
    expect(route(view, 'orders:80')).toEqual({ name: 'orders:80', identity: ORDERS_ID, endpoints: [sidecars['orders-1'].addr.inbound] });
    expect(route(view, 'orders.shop:80')?.identity).toBe(ORDERS_ID);
    for (const host of ['orders.shop', 'orders.shop.svc', 'orders.shop.svc.cluster.local', 'orders.shop.svc.cluster.local:80']) {
      expect((await call(host)).body, host).toMatch(/^orders-1 /);
    }
    // Another port than the Service's is no route at all.
    const wrongPort = await call('orders:8080');
    expect(wrongPort.status).toBe(503);
    expect(JSON.parse(wrongPort.body).error.code).toBe('ZTMESH_SIDECAR_NO_ROUTE');

    api.apply('endpointslices', slice('orders', 'orders-2', portOf(sidecars['orders-2'].addr.inbound)));
    const seen = new Set<string>();
    await until(async () => {
      const r = await call('orders');
      expect(r.status).toBe(200);
      seen.add(r.body.split(' ')[0]!);
      return seen.size;
    }, (n) => n === 2, 'both orders endpoints answering');
  }, 90_000);

  it('an endpoint whose pod runs as orders but whose sidecar presents another identity is refused, reported, and never used', async () => {
    const impostor = sidecars.impostor.addr.inbound;
    api.apply('endpointslices', slice('orders', 'orders-3', portOf(impostor)));
    await until(() => discoveryAt('web'), (v) => route(v, 'orders:80')?.endpoints.length === 3, 'three orders endpoints at web');
    const from = sidecars.web.proc.logs.length;
    const bodies: string[] = [];
    // The known endpoints answer /slow after 60 ms: an unmeasured endpoint looks cheaper, so the
    // balancer does try the impostor, which fails the identity check before a byte is sent.
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(Array.from({ length: 8 }, () => call('orders', '/slow')));
      for (const r of results) {
        expect(r.status).toBe(200);
        bodies.push(r.body.split(' ')[0]!);
      }
    }
    expect(bodies.filter((b) => b === 'impostor')).toEqual([]);
    const ejected = await sidecars.web.proc.waitForLog((l) => l.msg === 'endpoint ejected from the balancer' && l['endpoint'] === impostor, 10_000, from);
    expect(String(ejected['reason'])).toContain('ZTMESH_SIDECAR_WRONG_PEER_IDENTITY');
    const metrics = (await httpGet(sidecars.web.addr.admin, '/metrics')).body;
    expect(metrics).toMatch(new RegExp(`ztmesh_endpoint_ejections_total\\{[^}]*endpoint="${impostor.replace(/\./g, '\\.')}"[^}]*\\} [1-9]`));
    api.remove('endpointslices', 'shop', 'orders-orders-3');
    await until(() => discoveryAt('web'), (v) => route(v, 'orders:80')?.endpoints.length === 2, 'impostor endpoint gone');
  }, 90_000);

  it('50 updates per second (of another service, then of the same one) do not reset a live keep-alive connection or still-valid pooled mTLS connections', async () => {
    api.apply('services', { metadata: { name: 'pay', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    // No endpoint yet: pay has no identity to require, so no route (a client would get NO_ROUTE).
    await new Promise((r) => setTimeout(r, 300));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const localPorts = new Set<number>();
    const oneCall = async () => {
      const r = await getWithSocket(sidecars.web.addr.outbound, agent);
      expect(r.status).toBe(200);
      localPorts.add(r.port);
    };
    for (let i = 0; i < 10; i++) await oneCall();
    const before = { o1: await inboundConnections('orders-1'), o2: await inboundConnections('orders-2') };
    expect(before.o1 + before.o2).toBeGreaterThan(0);
    const appliedBefore = metricValue((await httpGet(sidecars.web.addr.admin, '/metrics')).body, 'ztmesh_sidecar_discovery_updates_total{result="applied"}') ?? 0;
    let updates = 0;
    const flapping = setInterval(() => {
      updates++;
      // pay's endpoint set flips between one and two endpoints (ports nobody listens on: never called).
      api.apply('endpointslices', {
        metadata: { name: 'pay-a', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'pay' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'pay-1', namespace: 'shop' } }, ...(updates % 2 === 0 ? [{ addresses: ['127.0.0.2'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'pay-1', namespace: 'shop' } }] : [])],
      });
    }, 20);
    try {
      while (updates < 100) await oneCall();
    } finally {
      clearInterval(flapping);
    }
    for (let i = 0; i < 10; i++) await oneCall();
    const appliedAfter = metricValue((await httpGet(sidecars.web.addr.admin, '/metrics')).body, 'ztmesh_sidecar_discovery_updates_total{result="applied"}') ?? 0;
    process.stdout.write(`discovery under flapping: ${updates} EndpointSlice updates of another service -> ${appliedAfter - appliedBefore} discovery pushes applied at the client sidecar\n`);
    // One app connection throughout, and no new mTLS connection to either orders sidecar.
    expect(localPorts.size).toBe(1);
    expect({ o1: await inboundConnections('orders-1'), o2: await inboundConnections('orders-2') }).toEqual(before);
    const view = await discoveryAt('web');
    expect(route(view, 'pay:80')?.identity).toBe(`spiffe://${TD}/ns/shop/sa/pay`);

    // orders' own set flaps (orders-2 ready, not ready, ...): orders-1 stays in it throughout, so
    // its pooled connections are still valid and none is reset or replaced.
    const o1 = await inboundConnections('orders-1');
    let flips = 0;
    const o2Port = portOf(sidecars['orders-2'].addr.inbound);
    const ownFlapping = setInterval(() => {
      flips++;
      api.apply('endpointslices', slice('orders', 'orders-2', o2Port, { ready: flips % 2 === 0 }));
    }, 20);
    try {
      while (flips < 100) await oneCall();
    } finally {
      clearInterval(ownFlapping);
    }
    api.apply('endpointslices', slice('orders', 'orders-2', o2Port));
    await until(() => discoveryAt('web'), (v) => route(v, 'orders:80')?.endpoints.length === 2, 'orders-2 back');
    for (let i = 0; i < 10; i++) await oneCall();
    agent.destroy();
    expect(localPorts.size).toBe(1);
    expect(await inboundConnections('orders-1')).toBe(o1);
  }, 90_000);

  it('terminating endpoints are drained, and removing all endpoints gives a prompt 503 with a stable code', async () => {
    api.apply('endpointslices', slice('orders', 'orders-2', portOf(sidecars['orders-2'].addr.inbound), { ready: false, serving: true, terminating: true }));
    await until(() => discoveryAt('web'), (v) => route(v, 'orders:80')?.endpoints.length === 1, 'terminating endpoint drained');
    for (let i = 0; i < 5; i++) expect((await call('orders')).body).toMatch(/^orders-1 /);
    api.remove('endpointslices', 'shop', 'orders-orders-1');
    api.remove('endpointslices', 'shop', 'orders-orders-2');
    const empty = await until(() => call('orders'), (r) => r.status === 503, 'a 503 once no endpoint is left');
    expect(JSON.parse(empty.body).error.code).toBe('ZTMESH_BALANCE_NO_ENDPOINTS');
    expect(route(await discoveryAt('web'), 'orders:80')).toMatchObject({ identity: ORDERS_ID, endpoints: [] });
  }, 60_000);
});

/** GET / with Host orders through `agent`: the status and the local port of the client socket used. */
function getWithSocket(address: string, agent: Agent): Promise<{ status: number; port: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: portOf(address), path: '/', headers: { host: 'orders' }, agent }, (res) => {
      const port = res.socket.localPort ?? 0;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, port }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
