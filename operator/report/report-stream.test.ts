import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultMeshConfig } from '../../core/policy/mesh-config.ts';
import { authorizationPolicySchema, type AuthorizationPolicy } from '../../core/policy/schema.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startPolicySubscriber } from '../../sidecar/control/policy-subscriber.ts';
import { MAX_ACCEPTED_REPORT_BYTES } from '../distribute/distribution-proto.ts';
import { startDistributionServer, type RunningDistributionServer } from '../distribute/distribution-server.ts';
import { buildSnapshot, workloadKey, type DesiredState, type DesiredWorkload } from '../reconcile/desired-state.ts';
import { createMeshIdentities, type MeshIdentities } from '../testing/mesh-identities.ts';
import { openRawSubscription } from '../testing/raw-subscription.ts';
import { reportMessage } from './report-fixtures.ts';
import { ReportStore } from './report-store.ts';

/** Reports over the real distribution stream (gRPC on mTLS), into the operator's store. */
const TD = 'example.org';
let ids: MeshIdentities;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function policy(name: string): AuthorizationPolicy {
  return authorizationPolicySchema.parse({
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'orders' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [`${TD}/ns/shop/sa/web`] } }] }] },
  });
}

function state(policies: AuthorizationPolicy[]): DesiredState {
  const labels = { app: 'orders' };
  const w: DesiredWorkload = { namespace: 'shop', podName: 'orders-1', serviceAccount: 'orders', identity: kubernetesSpiffeId(TD, 'shop', 'orders'), labels, snapshot: buildSnapshot({ policies, meshConfig: defaultMeshConfig(), namespace: 'shop', labels }) };
  return new Map([[workloadKey('shop', 'orders-1'), w]]);
}

async function serve(store: ReportStore): Promise<RunningDistributionServer> {
  const s = await startDistributionServer({ listen: '127.0.0.1:0', identity: await ids.operator(), trustDomain: TD, logger: silentLogger(), reports: store });
  cleanup.push(() => s.close());
  s.publish(state([policy('a')]));
  return s;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sidecar reports on the subscription stream', () => {
  it('a subscribed sidecar\'s reports are kept under its authenticated pod, and expire after the stream ends', async () => {
    let now = Date.now();
    const store = new ReportStore({ logger: silentLogger(), graceMs: 30_000, clock: () => now });
    const s = await serve(store);
    const creds = await ids.sidecar('shop', 'orders');
    const sub = startPolicySubscriber({
      address: `127.0.0.1:${s.port}`, operatorIdentity: ids.operatorId, credentials: () => creds, namespace: 'shop', podName: 'orders-1', logger: silentLogger(),
      report: { intervalMs: 60_000, build: () => reportMessage() },
    });
    cleanup.push(() => sub.close());
    await until(() => store.reports().length === 1, 'the first report');
    const [held] = store.reports();
    expect(held!.source).toMatchObject({ workload: 'shop/orders-1', identity: kubernetesSpiffeId(TD, 'shop', 'orders') });
    expect(held!.report.inventory?.service).toBe('orders');
    sub.close();
    await until(() => store.reports()[0]?.endedAt !== undefined, 'the stream end');
    now += 30_000;
    expect(store.reports()).toEqual([]);
  });

  it('malformed and oversized reports are refused and counted; the same stream keeps receiving policy snapshots', async () => {
    const store = new ReportStore({ logger: silentLogger(), minIntervalMs: 0 });
    const s = await serve(store);
    const raw = openRawSubscription(s.port, await ids.sidecar('shop', 'orders'), 'shop', 'orders-1');
    cleanup.push(() => raw.close());
    await raw.waitForSnapshots(1);
    raw.write({ report: reportMessage({ inventoryJson: '{"service": 1' }) });
    raw.write({ report: reportMessage({ anomaliesJson: `"${'x'.repeat(MAX_ACCEPTED_REPORT_BYTES + 10)}"` }) });
    raw.write({ report: reportMessage({ requestsText: 'node_memory_bytes 1\n' }) });
    await until(() => store.stats().refused['ZTMESH_CONTROL_BAD_REPORT'] === 3, 'three refusals');
    s.publish(state([policy('a'), policy('b')]));
    await raw.waitForSnapshots(2);
    expect(raw.snapshots[1]!.policiesJson).toHaveLength(2);
    expect(s.subscribers()).toHaveLength(1);
    // A good report afterwards is kept.
    raw.write({ report: reportMessage() });
    await until(() => store.reports().length === 1, 'the good report');
  });
});
