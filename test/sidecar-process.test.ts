import { createServer, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { createTestCa, type TestCa } from '../ca/testing/test-ca.ts';
import { writeIdentityFiles, writeSidecarConfig, httpGet, killAll, metricValue, startSidecar, waitForReady, yaml, ZtmeshProcess, type SidecarAddresses } from './helpers/sidecar-process.ts';

// Real `ztmesh sidecar` processes on loopback, identities from files written by a test CA.
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-sidecar-process-'));
let ca: TestCa;
let app: Server;
let appPort = 0;
const seen: IncomingHttpHeaders[] = [];
let releaseSlow: (() => void) | undefined;
let slowArrived: (() => void) | undefined;

function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const allowFrontend = (methods: string[]) =>
  yaml({
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'orders' } }, rules: [{ from: [{ source: { principals: [FRONTEND] } }], to: [{ operation: { methods } }] }] },
  });

const writeIdentity = (name: string, spiffeId: string) => writeIdentityFiles(ca, dir, name, spiffeId);

const config = (name: string, body: Record<string, unknown>): string => writeSidecarConfig(dir, TD, name, body, '5s');

let orders: { proc: ZtmeshProcess; addr: SidecarAddresses };
let frontend: { proc: ZtmeshProcess; addr: SidecarAddresses };
const policyFile = join(dir, 'orders-policy.yaml');
const meshFile = join(dir, 'mesh.yaml');

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD });
  app = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/slow') {
      releaseSlow = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow done');
      slowArrived?.();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`orders ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  writeFileSync(policyFile, allowFrontend(['GET']));
  writeFileSync(meshFile, yaml({ defaultAction: 'DENY' }));

  const ordersInbound = `127.0.0.1:${await freePort()}`;
  const frontendPolicy = join(dir, 'frontend-policy.yaml');
  writeFileSync(frontendPolicy, '');
  const ordersConfig = config('orders', {
    workload: { namespace: 'shop', name: 'orders', labels: { app: 'orders' } },
    identity: await writeIdentity('orders', ORDERS),
    inbound: { listen: ordersInbound, app: `127.0.0.1:${appPort}` },
    outbound: { listen: '127.0.0.1:0' },
    policyFile, meshConfigFile: meshFile,
  });
  const frontendConfig = config('frontend', {
    workload: { namespace: 'shop', name: 'frontend', labels: { app: 'frontend' } },
    identity: await writeIdentity('frontend', FRONTEND),
    inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
    outbound: { listen: '127.0.0.1:0', services: { orders: { address: ordersInbound, identity: ORDERS } } },
    policyFile: frontendPolicy,
  });
  [orders, frontend] = await Promise.all([startSidecar(ordersConfig), startSidecar(frontendConfig)]);
  await waitForReady(orders.addr.admin);
  await waitForReady(frontend.addr.admin);
}, 90_000);

afterAll(async () => {
  await killAll();
  app?.close();
});

describe('ztmesh sidecar (processes)', () => {
  it('exits 1 on a bad config, listing every offending key', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, yaml({ trustDomain: TD, workload: { namespace: 'shop' }, identity: { certFile: 'a' }, inbound: { listen: 'nowhere', app: '127.0.0.1:1' }, outbound: { listen: '127.0.0.1:0' }, policyFile: 'p', surprise: true }));
    const proc = new ZtmeshProcess(['sidecar', '--config', bad]);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr).toContain('ZTMESH_CONFIG_INVALID');
    for (const key of ['identity.keyFile', 'identity.bundleFile', 'inbound.listen', 'surprise']) expect(proc.stderr).toContain(key);
  });

  it('exits 1 with one fatal log line when a listener cannot bind', async () => {
    const squatter = createNetServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    try {
      const taken = `127.0.0.1:${(squatter.address() as AddressInfo).port}`;
      const proc = new ZtmeshProcess(['sidecar', '--config', config('taken', {
        workload: { namespace: 'shop' },
        identity: { certFile: 'orders.pem', keyFile: 'orders-key.pem', bundleFile: 'bundle.pem' },
        inbound: { listen: taken, app: '127.0.0.1:1' },
        outbound: { listen: '127.0.0.1:0' },
        policyFile,
      })]);
      expect(await proc.exited).toBe(1);
      const fatal = proc.logs.filter((l) => l.level === 'fatal');
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.msg).toBe('sidecar failed to start');
    } finally {
      squatter.close();
    }
  });

  it('is ready only with both identity and policy', async () => {
    const p = join(dir, 'late-policy.yaml');
    writeFileSync(p, 'apiVersion: nope\n');
    const { proc, addr } = await startSidecar(config('late', {
      workload: { namespace: 'shop', labels: { app: 'late' } },
      identity: { certFile: 'missing.pem', keyFile: 'missing-key.pem', bundleFile: 'bundle.pem' },
      inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
      outbound: { listen: '127.0.0.1:0' },
      policyFile: p,
    }));
    const notReady = await httpGet(addr.admin, '/ready');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).missing).toEqual(['identity', 'policy']);
    atomicWrite(p, allowFrontend(['GET']));
    expect(JSON.parse((await waitForReady(addr.admin, 503)).body).missing).toEqual(expect.arrayContaining(['identity']));
    const files = await writeIdentity('late', `spiffe://${TD}/ns/shop/sa/late`);
    atomicWrite(join(dir, 'missing-key.pem'), (await import('node:fs')).readFileSync(files.keyFile, 'utf8'));
    atomicWrite(join(dir, 'missing.pem'), (await import('node:fs')).readFileSync(files.certFile, 'utf8'));
    expect(JSON.parse((await waitForReady(addr.admin, 200)).body)).toEqual({ ready: true, missing: [] });
    const identity = JSON.parse((await httpGet(addr.admin, '/debug/identity')).body);
    expect(identity.spiffeId).toBe(`spiffe://${TD}/ns/shop/sa/late`);
    expect(await proc.stop()).toBe(0);
  });

  it('carries a request app → sidecar → sidecar → app with the verified peer identity', async () => {
    const res = await httpGet(frontend.addr.outbound, '/orders/1', { host: 'orders' });
    expect(res).toMatchObject({ status: 200, body: 'orders GET /orders/1' });
    expect(seen.at(-1)!['x-ztmesh-peer-identity']).toBe(FRONTEND);
    const metrics = (await httpGet(orders.addr.admin, '/metrics')).body;
    expect(metrics).toContain('ztmesh_certificate_expiry_timestamp_seconds');
  });

  it('runs with its own V8 flags (the young generation capped), re-executed in place under the same pid', () => {
    const cmdline = readFileSync(`/proc/${orders.proc.child.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain('--max-semi-space-size=2');
    expect(cmdline).toContain('sidecar');
  });

  it('hot-reloads policy: allowed → denied on the same connection; an invalid file keeps the last good set', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await httpGet(frontend.addr.outbound, '/orders/2', { host: 'orders', agent })).status).toBe(200);
      const connectionsBefore = metricValue((await httpGet(orders.addr.admin, '/metrics')).body, 'ztmesh_sidecar_connections_total{direction="inbound"}');
      const from = orders.proc.logs.length;
      atomicWrite(policyFile, allowFrontend(['POST']));
      await orders.proc.waitForLog((l) => l.msg === 'policies reloaded', 15_000, from);
      const denied = await httpGet(frontend.addr.outbound, '/orders/3', { host: 'orders', agent });
      expect(denied.status).toBe(403);
      expect(denied.body).toContain('ZTMESH_SIDECAR_DENIED');
      const metricsAfter = (await httpGet(orders.addr.admin, '/metrics')).body;
      expect(metricValue(metricsAfter, 'ztmesh_sidecar_connections_total{direction="inbound"}')).toBe(connectionsBefore);

      const from2 = orders.proc.logs.length;
      atomicWrite(policyFile, allowFrontend(['GET']).replace('methods:', 'bogus: 1\n            methods:'));
      await orders.proc.waitForLog((l) => l.msg === 'policy reload failed; keeping the last good set', 15_000, from2);
      expect((await httpGet(frontend.addr.outbound, '/orders/4', { host: 'orders', agent })).status).toBe(403);
      expect((await httpGet(frontend.addr.outbound, '/orders/4', { host: 'orders', agent, method: 'POST' })).status).toBe(200);
      const metrics = (await httpGet(orders.addr.admin, '/metrics')).body;
      expect(metricValue(metrics, 'ztmesh_policy_reload_errors_total{code="ZTMESH_POLICY_INVALID"}')).toBe(1);
      const reloaded = orders.proc.logs.filter((l) => l.msg === 'policies reloaded').at(-1)!;
      expect(metricValue(metrics, `ztmesh_policy_version{version="${reloaded['version'] as string}"}`)).toBe(1);
      expect((await httpGet(orders.addr.admin, '/ready')).status).toBe(200);
    } finally {
      agent.destroy();
      atomicWrite(policyFile, allowFrontend(['GET']));
      await orders.proc.waitForLog((l) => l.msg === 'policies reloaded' && (l['selected'] as string[]).length === 1, 15_000, orders.proc.logs.length);
    }
  });

  it('closes open connections of a peer newly put on the deny list', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await httpGet(frontend.addr.outbound, '/orders/5', { host: 'orders', agent })).status).toBe(200);
      const from = orders.proc.logs.length;
      atomicWrite(meshFile, yaml({ defaultAction: 'DENY', denyList: { spiffeIds: [FRONTEND] } }));
      const line = await orders.proc.waitForLog((l) => l.msg === 'deny list changed; closed connections of listed peers', 15_000, from);
      expect(line['closed']).toBeGreaterThanOrEqual(1);
      const refused = await httpGet(frontend.addr.outbound, '/orders/6', { host: 'orders', agent });
      expect(refused.status).toBeGreaterThanOrEqual(500);
    } finally {
      agent.destroy();
      const from = orders.proc.logs.length;
      atomicWrite(meshFile, yaml({ defaultAction: 'DENY' }));
      await orders.proc.waitForLog((l) => l.msg === 'policies reloaded', 15_000, from);
    }
  });

  it('drains on SIGTERM: not ready, the in-flight slow request completes, exit 0', async () => {
    const arrived = new Promise<void>((r) => (slowArrived = r));
    const slow = httpGet(frontend.addr.outbound, '/slow', { host: 'orders' });
    await arrived;
    orders.proc.child.kill('SIGTERM');
    await orders.proc.waitForLog((l) => l.msg === 'draining');
    expect((await httpGet(orders.addr.admin, '/ready')).status).toBe(503);
    releaseSlow!();
    expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
    expect(await orders.proc.exited).toBe(0);
  });
});
