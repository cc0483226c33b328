import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACCEPTED_REPORT_BYTES } from '../operator/distribute/distribution-proto.ts';
import { reportMessage } from '../operator/report/report-fixtures.ts';
import type { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities, type MeshIdentities } from '../operator/testing/mesh-identities.ts';
import { startOperatorFixture, injectedPod, allowOrdersFrom } from '../operator/testing/operator-fixture.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/testing/operator-process.ts';
import { openRawSubscription, type RawSubscription } from '../operator/testing/raw-subscription.ts';
import { writeControlledSidecar } from './helpers/controlled-sidecar.ts';
import { httpGet, killAll, startSidecar, ZTMESH_BIN, ZtmeshProcess, type SidecarAddresses } from './helpers/sidecar-process.ts';

/**
 * What sidecars observed, gathered by the operator over the policy stream: the real `ztmesh
 * operator` (dashboard on a non-loopback address, so with a bearer token) against the fake API
 * server, two real `ztmesh sidecar` processes reporting every second, real HTTP web → orders, and
 * a hand-driven stream sending malformed and oversized reports.
 */
const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/shop/sa/web`;
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const TOKEN = 'dashboard-token-0123456789abcdef';
let ids: MeshIdentities;
let api: FakeKubeApiServer;
let dir: string;
let app: Server;
let operator: OperatorProcess;
let common: string[];
let rogue: RawSubscription | undefined;
const sidecars: Record<'orders' | 'web', { proc: ZtmeshProcess; addr: SidecarAddresses }> = {} as never;


function allowFrom(sa: string) {
  return allowOrdersFrom(TD, sa);
}

async function call(path: string): Promise<number> {
  return (await httpGet(sidecars.web.addr.outbound, path, { host: 'orders' })).status;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET from the operator's dashboard; `token` null sends no credentials. */
async function dashboard(path: string, token: string | null = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${operator.dashboardPort}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // the page itself
  }
  return { status: res.status, body };
}

function writeSidecar(name: 'orders' | 'web', podName: string, extra: Record<string, unknown>): Promise<string> {
  return writeControlledSidecar({ dir, ids, trustDomain: TD, sa: name, podName, workloadName: name, distributionPort: operator.distributionPort, reportInterval: '1s', extra });
}

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
  dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-dashboard-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const fixture = await startOperatorFixture(dir, ids, TD);
  api = fixture.api;
  for (const ns of ['shop', 'ztmesh-system']) api.apply('namespaces', { metadata: { name: ns } });
  for (const sa of ['orders', 'web']) api.apply('serviceaccounts', { metadata: { name: sa, namespace: 'shop' } });
  api.apply('pods', injectedPod('orders-1', 'orders', 'orders'));
  api.apply('pods', injectedPod('orders-9', 'orders', 'orders'));
  api.apply('pods', injectedPod('web-1', 'web', 'web'));
  common = [...fixture.args, '--distribution-listen', '127.0.0.1:0'];
  operator = await startOperatorProcess([...common, '--dashboard-listen', '0.0.0.0:0', '--dashboard-token-file', join(dir, 'token'), '--report-grace', '2s']);
  app = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: Number(req.url!.split('/').pop()), email: 'someone@example.org' }));
  });
  app.listen(0, '127.0.0.1');
  await new Promise((r) => app.once('listening', r));
  const appAddr = `127.0.0.1:${(app.address() as AddressInfo).port}`;
  sidecars.orders = await startSidecar(await writeSidecar('orders', 'orders-1', { inbound: { listen: '127.0.0.1:0', app: appAddr }, outbound: { listen: '127.0.0.1:0' } }));
  sidecars.web = await startSidecar(await writeSidecar('web', 'web-1', {
    inbound: { listen: '127.0.0.1:0', app: appAddr },
    outbound: { listen: '127.0.0.1:0', services: { orders: { address: sidecars.orders.addr.inbound, identity: ORDERS } } },
  }));
}, 120_000);

afterAll(async () => {
  rogue?.close();
  await killAll();
  await operator?.stop();
  await api?.close();
  app?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the operator gathers what sidecars saw, over the policy stream', () => {
  it('traffic through a sidecar shows in the operator\'s merged inventory (ztmesh inventory --from OPERATOR) and its dashboard data', async () => {
    // Fail closed before any policy: a denial the dashboard must show.
    await until(async () => ((await call('/orders/1')) === 403 ? true : undefined), 'the default deny');
    api.apply('authorizationpolicies', allowFrom('web'));
    await until(async () => ((await call('/orders/17')) === 200 ? true : undefined), 'allowed after the policy');
    expect(await call('/orders/42')).toBe(200);

    const inventory = await until(async () => {
      const { status, body } = await dashboard('/inventory');
      expect(status).toBe(200);
      const row = (body.apis as Record<string, any>[]).find((a) => a.service === 'orders' && a.method === 'GET' && a.route === '/orders/{id}');
      return row !== undefined && row.count >= 2 ? body : undefined;
    }, 'the orders route in the operator\'s /inventory');
    expect(inventory.service).toBe('*');
    expect(inventory.sources.map((s: { workload: string }) => s.workload).sort()).toEqual(['shop/orders-1', 'shop/web-1']);

    // The real CLI reads the operator as it reads a sidecar admin port.
    const { stdout } = await promisify(execFile)(process.execPath, [ZTMESH_BIN, 'inventory', '--from', `127.0.0.1:${operator.dashboardPort}`, '--token-file', join(dir, 'token'), '--json']);
    const cli = JSON.parse(stdout) as { apis: Record<string, any>[] };
    const row = cli.apis.find((a) => a.service === 'orders' && a.route === '/orders/{id}')!;
    expect(row.callers).toContain(WEB);
    expect(row.responseFields).toMatchObject({ id: 'number', email: 'string' });
    expect(row.sensitive).toContain('email');

    const mesh = await until(async () => {
      const { body } = await dashboard('/api/mesh');
      const edge = body?.graph.edges.find((e: { source: string; destination: string }) => e.source === WEB && e.destination === ORDERS);
      return edge !== undefined && edge.allowed >= 2 && edge.denied >= 1 ? body : undefined;
    }, 'the web → orders edge in /api/mesh');
    const orders = mesh.workloads.find((w: { admin: string }) => w.admin === 'shop/orders-1');
    expect(orders).toMatchObject({ identity: ORDERS, error: null });
    expect(Date.parse(orders.certificate.notAfter)).toBeGreaterThan(Date.now());
    expect(mesh.denials.some((d: { caller: string; destination: string }) => d.caller === WEB && d.destination === ORDERS)).toBe(true);
    expect(mesh.inventory.apis.some((a: { route: string }) => a.route === '/orders/{id}')).toBe(true);
  }, 90_000);

  it('refuses unauthenticated access to the dashboard, its data and /inventory (401)', async () => {
    for (const path of ['/', '/api/mesh', '/api/events', '/inventory']) {
      const none = await dashboard(path, null);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.body.error.code).toBe('ZTMESH_DASHBOARD_UNAUTHORIZED');
      expect((await dashboard(path, 'wrong-token-0123456789abcdef')).status).toBe(401);
    }
    expect((await dashboard('/')).status).toBe(200);
  });

  it('an operator asked for a non-loopback dashboard without a token refuses to start', async () => {
    const proc = new ZtmeshProcess(['operator', ...common, '--dashboard-listen', '0.0.0.0:0']);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr).toContain('ZTMESH_CLI_BAD_ARGS');
    expect(proc.stderr).toContain('--dashboard-token-file');
  }, 30_000);

  it('malformed and oversized reports are refused and counted, and policy delivery goes on (to that stream and to the sidecars)', async () => {
    rogue = openRawSubscription(operator.distributionPort, await ids.sidecar('shop', 'orders'), 'shop', 'orders-9');
    await rogue.waitForSnapshots(1);
    const from = operator.logs.length;
    rogue.write({ report: reportMessage({ inventoryJson: '{"service":"orders","apis":"<script>"}' }) });
    rogue.write({ report: reportMessage({ anomaliesJson: `"${'x'.repeat(MAX_ACCEPTED_REPORT_BYTES)}"` }) });
    const refused = await until(async () => {
      const status = JSON.parse((await httpGet(`127.0.0.1:${operator.adminPort}`, '/status')).body) as { reports: { refused: Record<string, number> } };
      return (status.reports.refused['ZTMESH_CONTROL_BAD_REPORT'] ?? 0) >= 2 ? status.reports.refused : undefined;
    }, 'two refusals counted in /status');
    // The real sidecars' reports, once a second each, are never refused.
    expect(refused).toEqual({ ZTMESH_CONTROL_BAD_REPORT: 2 });
    // Logged (at most every 10 s per pod and code), naming the pod.
    const logged = operator.logs.slice(from).filter((l) => l['msg'] === 'sidecar report refused; policy delivery is not affected');
    expect(logged.map((l) => [l['code'], l['workload']])).toEqual([['ZTMESH_CONTROL_BAD_REPORT', 'shop/orders-9']]);
    expect((await dashboard('/inventory')).body.sources.map((s: { workload: string }) => s.workload)).not.toContain('shop/orders-9');

    // The same stream still gets its policies, and so do the real sidecars.
    api.apply('authorizationpolicies', allowFrom('admin'));
    await rogue.waitForSnapshots(2);
    await until(async () => ((await call('/orders/5')) === 403 ? true : undefined), 'the changed policy enforced by the sidecars');
    api.apply('authorizationpolicies', allowFrom('web'));
    await rogue.waitForSnapshots(3);
    await until(async () => ((await call('/orders/6')) === 200 ? true : undefined), 'allowed again');
  }, 60_000);

  it('a sidecar\'s report is dropped after its stream ends and the grace period passes', async () => {
    expect((await dashboard('/api/mesh')).body.workloads.map((w: { admin: string }) => w.admin)).toContain('shop/web-1');
    await sidecars.web.proc.stop();
    await until(async () => {
      const { body } = await dashboard('/api/mesh');
      return body.workloads.some((w: { admin: string }) => w.admin === 'shop/web-1') ? undefined : true;
    }, 'the web report to expire');
    expect((await dashboard('/inventory')).body.sources.map((s: { workload: string }) => s.workload)).toEqual(['shop/orders-1']);
  }, 30_000);
});
