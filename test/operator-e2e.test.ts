import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { buildRequestAttributes } from '../core/policy/build-request.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import type { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities, type MeshIdentities } from '../operator/testing/mesh-identities.ts';
import { startOperatorFixture, injectedPod, allowOrdersFrom } from '../operator/testing/operator-fixture.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/testing/operator-process.ts';
import type { AppliedSnapshot } from '../sidecar/control/apply-snapshot.ts';
import { startPolicySubscriber, type PolicySubscriber } from '../sidecar/control/policy-subscriber.ts';

/**
 * The operator end to end: the real `ztmesh operator` process against the fake API server
 * (through @kubernetes/client-node's HTTP client), two sidecar-side subscribers over mTLS.
 */
const TD = 'example.org';
let ids: MeshIdentities;
let api: FakeKubeApiServer;
let dir: string;
let operator: OperatorProcess | undefined;
let operatorArgs: string[];
const subscribers: { orders: PolicySubscriber; web: PolicySubscriber; seen: Map<string, AppliedSnapshot[]> } = { orders: undefined!, web: undefined!, seen: new Map() };

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return Date.now() - start;
}


function policy(name: string, spec: unknown) {
  return { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'shop' }, spec };
}

function allowFrom(sa: string) {
  return allowOrdersFrom(TD, sa);
}

function decide(sub: PolicySubscriber, from: string): string {
  const authorizer = sub.current()?.authorizer;
  if (authorizer === undefined) return 'NO-POLICY';
  return authorizer.evaluate(buildRequestAttributes({ principal: `spiffe://${TD}/ns/shop/sa/${from}`, port: 8080, method: 'GET', path: '/orders' })).decision;
}

function policyStatus(name: string): { conditions?: { type: string; status: string; reason: string; field?: string }[] } | undefined {
  try {
    return api.store.get(api.resource('authorizationpolicies'), 'shop', name)['status'] as never;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
  dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-e2e-'));
  const fixture = await startOperatorFixture(dir, ids, TD);
  api = fixture.api;
  for (const ns of ['shop', 'ztmesh-system']) api.apply('namespaces', { metadata: { name: ns } });
  for (const sa of ['orders', 'web']) api.apply('serviceaccounts', { metadata: { name: sa, namespace: 'shop' } });
  api.apply('pods', injectedPod('orders-1', 'orders', 'orders'));
  api.apply('pods', injectedPod('web-1', 'web', 'web'));
  const common = fixture.args;
  operator = await startOperatorProcess([...common, '--distribution-listen', '127.0.0.1:0']);
  operatorArgs = [...common, '--distribution-listen', `127.0.0.1:${operator.distributionPort}`];
  for (const [pod, sa] of [['orders-1', 'orders'], ['web-1', 'web']] as const) {
    const creds = await ids.sidecar('shop', sa);
    const seen: AppliedSnapshot[] = [];
    subscribers.seen.set(pod, seen);
    const sub = startPolicySubscriber({
      address: `127.0.0.1:${operator.distributionPort}`,
      operatorIdentity: ids.operatorId,
      credentials: () => creds,
      namespace: 'shop',
      podName: pod,
      logger: silentLogger(),
      backoff: { initialMs: 50, maxMs: 500 },
      onSnapshot: (s) => seen.push(s),
    });
    if (sa === 'orders') subscribers.orders = sub;
    else subscribers.web = sub;
  }
}, 60_000);

afterAll(async () => {
  subscribers.orders?.close();
  subscribers.web?.close();
  await operator?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('operator end to end', () => {
  it('starts both sidecars fail-closed (no ALLOW policy: default DENY)', async () => {
    await subscribers.orders.firstSnapshot();
    await subscribers.web.firstSnapshot();
    expect(decide(subscribers.orders, 'web')).toBe('DENY');
  });

  it('create, change and delete a policy: enforcement flips within 2 s, only the selected workload learns it', async () => {
    api.apply('authorizationpolicies', allowFrom('web'));
    expect(await until(() => decide(subscribers.orders, 'web') === 'ALLOW', 'allow after create', 2000)).toBeLessThan(2000);
    expect(subscribers.web.current()!.policies.map((p) => p.metadata.name)).not.toContain('orders-allow');
    api.apply('authorizationpolicies', allowFrom('admin'));
    await until(() => decide(subscribers.orders, 'web') === 'DENY', 'deny after change', 2000);
    api.apply('authorizationpolicies', allowFrom('web'));
    await until(() => decide(subscribers.orders, 'web') === 'ALLOW', 'allow after change back', 2000);
    api.remove('authorizationpolicies', 'shop', 'orders-allow');
    await until(() => decide(subscribers.orders, 'web') === 'DENY', 'deny after delete', 2000);
  });

  it('writes Accepted and Distributed conditions; an invalid policy is not Accepted and never reaches a sidecar', async () => {
    api.apply('authorizationpolicies', allowFrom('web'));
    await until(() => policyStatus('orders-allow')?.conditions?.find((c) => c.type === 'Distributed')?.status === 'True', 'Distributed=True', 5000);
    expect(policyStatus('orders-allow')!.conditions!.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True' });
    api.apply('authorizationpolicies', policy('broken', { action: 'CUSTOM' }));
    await until(() => policyStatus('broken')?.conditions?.[0]?.status === 'False', 'broken not accepted', 5000);
    expect(policyStatus('broken')!.conditions![0]).toMatchObject({ type: 'Accepted', reason: 'Invalid', field: 'spec.action' });
    for (const seen of subscribers.seen.values()) for (const s of seen) expect(s.policies.map((p) => p.metadata.name)).not.toContain('broken');
    api.remove('authorizationpolicies', 'shop', 'broken');
  });

  it('ztmesh status shows workloads, identities, policies and acknowledged versions', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const io = { stdout: out, stderr: out, stdin: new PassThrough(), env: {}, cwd: dir };
    expect(await main(['status', '--admin', `127.0.0.1:${operator!.adminPort}`], io)).toBe(0);
    expect(text).toContain('shop/orders-1  spiffe://example.org/ns/shop/sa/orders');
    expect(text).toContain('policies: shop/orders-allow');
    expect(text).toContain('up to date');
    expect(text).toContain('leader: yes');
  });

  it('measures propagation over 20 changes: both sidecars have each new version within 2 s', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `shop-wide-${i % 2}`;
      const path = `/blocked-${i}`;
      const start = Date.now();
      api.apply('authorizationpolicies', policy(name, { action: 'DENY', rules: [{ to: [{ operation: { paths: [path] } }] }] }));
      const has = (sub: PolicySubscriber) => JSON.stringify(sub.current()?.policies ?? []).includes(`"${path}"`);
      await until(() => has(subscribers.orders) && has(subscribers.web), `change ${i}`, 2000);
      samples.push(Date.now() - start);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const median = (sorted[9]! + sorted[10]!) / 2;
    const max = sorted[19]!;
    // eslint-disable-next-line no-console
    console.log(`policy propagation over 20 changes (API write -> both sidecars compiled): median ${median} ms, max ${max} ms`);
    expect(max).toBeLessThan(2000);
  });

  it('restarts a broken watch with jittered backoff (counted in /status), is ready again, and still propagates', async () => {
    const admin = `http://127.0.0.1:${operator!.adminPort}`;
    const before = api.requests.length;
    api.failNext('authorizationpolicies', 3);
    api.dropWatches();
    const ready = async () => (await fetch(`${admin}/ready`)).status;
    await until(() => api.requests.slice(before).filter((r) => r.plural === 'authorizationpolicies').length >= 4, 'retries', 15_000);
    // Recovered: ready again, and a change still reaches the sidecar.
    let status = 0;
    for (let i = 0; i < 200 && status !== 200; i++) {
      status = await ready();
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    const view = (await (await fetch(`${admin}/status`)).json()) as { informers: { name: string; restarts: number }[] };
    expect(view.informers.find((i) => i.name === 'authorizationpolicies')!.restarts).toBeGreaterThanOrEqual(3);
    // Three failures cost four requests spread by the backoff, not a tight loop.
    const policyRequests = api.requests.slice(before).filter((r) => r.plural === 'authorizationpolicies' && r.method === 'GET');
    expect(policyRequests.length).toBeLessThan(10);
    api.apply('authorizationpolicies', allowFrom('admin'));
    await until(() => decide(subscribers.orders, 'web') === 'DENY', 'change after watch recovery', 2000);
    api.apply('authorizationpolicies', allowFrom('web'));
    await until(() => decide(subscribers.orders, 'web') === 'ALLOW', 'change back', 2000);
  }, 60_000);

  it('rotates its serving SVID when the identity files change', async () => {
    const next = await ids.operator();
    writeFileSync(join(dir, 'op-key.pem'), next.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'op.pem'), next.certChainPem);
    await until(() => operator!.logs.some((l) => l['msg'] === 'distribution serving identity rotated'), 'rotation', 20_000);
    const creds = await ids.sidecar('shop', 'orders');
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: operator!.distributionPort, secureContext: creds.clientContext, ALPNProtocols: ['h2'], servername: 'ztmesh-operator', checkServerIdentity: () => undefined });
      socket.on('error', reject);
      socket.on('secureConnect', () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
    });
    expect(served.toUpperCase()).toBe(new X509Certificate(next.certChainPem).serialNumber.toUpperCase());
  }, 60_000);

  it('keeps the last good policies while the operator is down, and resyncs after a restart', async () => {
    const before = subscribers.orders.current()!.version;
    expect(decide(subscribers.orders, 'web')).toBe('ALLOW');
    expect(await operator!.stop()).toBe(0);
    await until(() => !subscribers.orders.connected() && !subscribers.web.connected(), 'disconnect');
    // Still enforcing the last good set.
    expect(subscribers.orders.current()!.version).toBe(before);
    expect(decide(subscribers.orders, 'web')).toBe('ALLOW');
    // Changed while the operator is away...
    api.apply('authorizationpolicies', allowFrom('admin'));
    await new Promise((r) => setTimeout(r, 200));
    expect(decide(subscribers.orders, 'web')).toBe('ALLOW');
    // ...picked up after the restart.
    operator = await startOperatorProcess(operatorArgs);
    await until(() => decide(subscribers.orders, 'web') === 'DENY', 'resync after restart', 5000);
    expect(subscribers.orders.connected()).toBe(true);
  }, 90_000);
});
