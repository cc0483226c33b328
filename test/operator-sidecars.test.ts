import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities, type MeshIdentities } from '../operator/testing/mesh-identities.ts';
import { startOperatorFixture, injectedPod, allowOrdersFrom } from '../operator/testing/operator-fixture.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/testing/operator-process.ts';
import { writeControlledSidecar } from './helpers/controlled-sidecar.ts';
import { httpGet, killAll, startSidecar, yaml, ZtmeshProcess, type SidecarAddresses } from './helpers/sidecar-process.ts';

/**
 * Policies from the operator to real sidecars: the `ztmesh operator` process against the fake API
 * server, two `ztmesh sidecar` processes whose config says `control:` (no policy file), and real
 * HTTP from web's outbound listener through orders' inbound to orders' app.
 */
const TD = 'example.org';
let ids: MeshIdentities;
let api: FakeKubeApiServer;
let dir: string;
let app: Server;
let operator: OperatorProcess | undefined;
let operatorArgs: string[];
const sidecars: Record<'orders' | 'web', { proc: ZtmeshProcess; addr: SidecarAddresses }> = {} as never;


function allowFrom(sa: string) {
  return allowOrdersFrom(TD, sa);
}

/** One real request web → orders through both sidecars: the status orders' sidecar answered with. */
async function call(): Promise<number> {
  return (await httpGet(sidecars.web.addr.outbound, '/orders', { host: 'orders' })).status;
}

/** Polls real traffic until it answers `status`; the milliseconds it took. */
async function until(status: number, what: string, timeoutMs = 2000): Promise<number> {
  const start = performance.now();
  for (;;) {
    if ((await call()) === status) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (HTTP ${status})`);
  }
}

function writeSidecar(name: 'orders' | 'web', podName: string, extra: Record<string, unknown>, distributionPort: number): Promise<string> {
  return writeControlledSidecar({ dir, ids, trustDomain: TD, sa: name, podName, distributionPort, extra: { logLevel: 'info', ...extra } });
}

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
  dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-sidecars-'));
  const fixture = await startOperatorFixture(dir, ids, TD);
  api = fixture.api;
  for (const ns of ['shop', 'ztmesh-system']) api.apply('namespaces', { metadata: { name: ns } });
  for (const sa of ['orders', 'web']) api.apply('serviceaccounts', { metadata: { name: sa, namespace: 'shop' } });
  api.apply('pods', injectedPod('orders-1', 'orders', 'orders'));
  api.apply('pods', injectedPod('web-1', 'web', 'web'));
  const common = fixture.args;
  operator = await startOperatorProcess([...common, '--distribution-listen', '127.0.0.1:0']);
  operatorArgs = [...common, '--distribution-listen', `127.0.0.1:${operator.distributionPort}`];
  app = createServer((req, res) => res.end(`orders app: ${req.url}`));
  app.listen(0, '127.0.0.1');
  await new Promise((r) => app.once('listening', r));
  const appPort = (app.address() as AddressInfo).port;
  const port = operator.distributionPort;
  sidecars.orders = await startSidecar(await writeSidecar('orders', 'orders-1', { inbound: { listen: '127.0.0.1:0', app: `127.0.0.1:${appPort}` }, outbound: { listen: '127.0.0.1:0' } }, port));
  sidecars.web = await startSidecar(await writeSidecar('web', 'web-1', {
    inbound: { listen: '127.0.0.1:0', app: `127.0.0.1:${appPort}` },
    outbound: { listen: '127.0.0.1:0', services: { orders: { address: sidecars.orders.addr.inbound, identity: `spiffe://${TD}/ns/shop/sa/orders` } } },
  }, port));
}, 90_000);

afterAll(async () => {
  await killAll();
  await operator?.stop();
  await api?.close();
  app?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('operator → real sidecars → real traffic', () => {
  it('denies before any policy (fail closed), then flips allowed → denied → allowed within 2 s as a policy is created, changed and deleted', async () => {
    expect(await until(403, 'default deny from the first snapshot', 10_000)).toBeLessThan(10_000);
    api.apply('authorizationpolicies', allowFrom('web'));
    expect(await until(200, 'allowed after create')).toBeLessThan(2000);
    api.apply('authorizationpolicies', allowFrom('admin'));
    expect(await until(403, 'denied after change')).toBeLessThan(2000);
    api.apply('authorizationpolicies', allowFrom('web'));
    expect(await until(200, 'allowed after change back')).toBeLessThan(2000);
    api.remove('authorizationpolicies', 'shop', 'orders-allow');
    expect(await until(403, 'denied after delete')).toBeLessThan(2000);
  }, 30_000);

  it('propagation through real traffic over 20 changes: every one within 2 s (median and max logged)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const allow = i % 2 === 0;
      api.apply('authorizationpolicies', allowFrom(allow ? 'web' : 'admin'));
      times.push(await until(allow ? 200 : 403, `change ${i}`));
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = (sorted[9]! + sorted[10]!) / 2;
    // Reported in the issue note; the test asserts only the 2 s bound.
    process.stdout.write(`policy propagation over 20 changes (real traffic): median ${median.toFixed(1)} ms, max ${sorted[19]!.toFixed(1)} ms\n`);
    expect(sorted[19]).toBeLessThan(2000);
  }, 60_000);

  it('a sidecar with control: but no pod name (neither control.podName nor $POD_NAME) refuses to start, naming the key', async () => {
    const file = join(dir, 'no-pod.yaml');
    writeFileSync(file, yaml({
      trustDomain: TD, workload: { namespace: 'shop', labels: { app: 'orders' } },
      identity: { certFile: 'orders.pem', keyFile: 'orders-key.pem', bundleFile: 'bundle.pem' },
      inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' }, outbound: { listen: '127.0.0.1:0' },
      control: { address: `127.0.0.1:${operator!.distributionPort}` }, admin: '127.0.0.1:0',
    }));
    const proc = new ZtmeshProcess(['sidecar', '--config', file], { POD_NAME: '' });
    expect(await proc.exited).toBe(1);
    expect(JSON.stringify(proc.logs)).toContain('ZTMESH_CONFIG_INVALID');
    expect(JSON.stringify(proc.logs)).toContain('control.podName');
  }, 30_000);

  it('keeps enforcing the last good policy while the operator is down, and resyncs after a restart', async () => {
    api.apply('authorizationpolicies', allowFrom('web'));
    await until(200, 'allowed before the stop');
    expect(await operator!.stop()).toBe(0);
    operator = undefined;
    for (let i = 0; i < 5; i++) expect(await call()).toBe(200);
    // Changed while the operator is down: nobody pushes it, the sidecars keep the old policy.
    api.apply('authorizationpolicies', allowFrom('admin'));
    await new Promise((r) => setTimeout(r, 300));
    expect(await call()).toBe(200);
    operator = await startOperatorProcess(operatorArgs);
    expect(await until(403, 'resynced after restart', 15_000)).toBeLessThan(15_000);
    api.apply('authorizationpolicies', allowFrom('web'));
    expect(await until(200, 'changes reach the sidecars again')).toBeLessThan(2000);
  }, 60_000);
});
