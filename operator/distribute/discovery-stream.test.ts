import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultMeshConfig } from '../../core/policy/mesh-config.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startPolicySubscriber } from '../../sidecar/control/policy-subscriber.ts';
import { buildSnapshot, workloadKey, type DesiredState, type DesiredWorkload } from '../reconcile/desired-state.ts';
import { parseOutboundServices } from '../reconcile/outbound-services.ts';
import { reconcileDiscovery, type DiscoveryCatalog } from '../reconcile/service-discovery.ts';
import { createMeshIdentities, type MeshIdentities } from '../testing/mesh-identities.ts';
import type { ServiceDiscoveryMessage } from './distribution-proto.ts';
import { startDistributionServer, type AckEvent } from './distribution-server.ts';
import { DiscoveryStream } from './discovery-stream.ts';

const TD = 'example.org';
let ids: MeshIdentities;
const cleanup: (() => unknown)[] = [];
beforeAll(async () => {
  ids = await createMeshIdentities(TD);
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A catalog of Services in namespace shop, each with endpoints 10.0.0.<i> for the given host numbers. */
function catalog(services: Record<string, number[]>): DiscoveryCatalog {
  const names = Object.keys(services);
  return reconcileDiscovery({
    services: names.map((name) => ({ metadata: { name, namespace: 'shop' }, spec: { ports: [{ port: 80 }] } })),
    endpointSlices: names.map((name) => ({ metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: services[name]!.map((i) => ({ addresses: [`10.0.0.${i}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-pod`, namespace: 'shop' } })) }) as never),
    pods: names.map((name) => ({ metadata: { name: `${name}-pod`, namespace: 'shop', annotations: { 'ztmesh.io/status': '{}' } }, spec: { serviceAccountName: name } })),
    namespaces: [{ metadata: { name: 'shop', labels: { 'ztmesh.io/inject': 'enabled' } } }],
    trustDomain: TD,
  });
}

describe('DiscoveryStream', () => {
  it('sends the whole set first, then coalesced deltas; a NACK makes the next push whole', async () => {
    const sent: ServiceDiscoveryMessage[] = [];
    const stream = new DiscoveryStream({ send: (d) => sent.push(d), minIntervalMs: 150 });
    cleanup.push(() => stream.close());
    stream.offer(catalog({ orders: [1], pay: [2] }).services);
    await until(() => sent.length === 1, 'first push');
    expect(sent[0]!.full).toBe(true);
    expect(sent[0]!.services.map((s) => s.name)).toEqual(['orders', 'pay']);
    // A burst of changes within the interval: one push, carrying only the latest state's changes.
    for (let i = 3; i < 30; i++) stream.offer(catalog({ orders: [1], pay: [2, i] }).services);
    stream.offer(catalog({ orders: [1], db: [9] }).services);
    await until(() => sent.length === 2, 'coalesced push');
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ full: false, removed: ['pay.shop'] });
    expect(sent[1]!.services.map((s) => s.name)).toEqual(['db']);
    // Nothing changed: nothing sent.
    stream.offer(catalog({ orders: [1], db: [9] }).services);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toHaveLength(2);
    stream.ack(sent[1]!.version, false, 'bad');
    expect(stream.rejected?.reason).toBe('bad');
    stream.offer(catalog({ orders: [1, 2], db: [9] }).services);
    await until(() => sent.length === 3, 'whole push after NACK');
    expect(sent[2]!.full).toBe(true);
    expect(sent[2]!.services.map((s) => s.name)).toEqual(['db', 'orders']);
  });
});

function workload(pod: string, sa: string, annotation?: string): DesiredWorkload {
  const labels = { app: sa };
  return {
    namespace: 'shop', podName: pod, serviceAccount: sa, identity: kubernetesSpiffeId(TD, 'shop', sa), labels,
    snapshot: buildSnapshot({ policies: [], meshConfig: defaultMeshConfig(), namespace: 'shop', labels }),
    outbound: parseOutboundServices(annotation, 'shop'),
  };
}
const state = (...ws: DesiredWorkload[]): DesiredState => new Map(ws.map((w) => [workloadKey(w.namespace, w.podName), w]));

describe('endpoint discovery on the policy stream', () => {
  it('each sidecar gets the Services it may call and ACKs them; a sidecar that ignores discovery keeps its policy ACKs clean', async () => {
    const acks: AckEvent[] = [];
    const server = await startDistributionServer({ listen: '127.0.0.1:0', identity: await ids.operator(), trustDomain: TD, logger: silentLogger(), onAck: (e) => acks.push(e), discoveryIntervalMs: 20 });
    cleanup.push(() => server.close());
    const desired = state(workload('web-1', 'web'), workload('narrow-1', 'narrow', 'pay'), workload('old-1', 'old'));
    server.publish(desired, catalog({ orders: [1], pay: [2] }));
    const got: Record<string, ServiceDiscoveryMessage[]> = { web: [], narrow: [] };
    for (const sa of ['web', 'narrow', 'old'] as const) {
      const creds = await ids.sidecar('shop', sa);
      const sub = startPolicySubscriber({
        address: `127.0.0.1:${server.port}`, operatorIdentity: ids.operatorId, credentials: () => creds, namespace: 'shop', podName: `${sa}-1`, logger: silentLogger(), backoff: { initialMs: 20, maxMs: 100 },
        ...(sa === 'old' ? {} : { onDiscovery: (d: ServiceDiscoveryMessage) => void got[sa]!.push(d) }),
      });
      cleanup.push(() => sub.close());
    }
    await until(() => got['web']!.length === 1 && got['narrow']!.length === 1, 'first discovery');
    expect(got['web']![0]!.services.map((s) => `${s.name}.${s.namespace}`)).toEqual(['orders.shop', 'pay.shop']);
    expect(got['web']![0]!.services[0]!.ports[0]!.endpoints).toEqual([{ address: '10.0.0.1', port: 8080, identity: kubernetesSpiffeId(TD, 'shop', 'orders'), pod: 'shop/orders-pod' }]);
    expect(got['narrow']![0]!.services.map((s) => s.name)).toEqual(['pay']);
    await until(() => server.subscribers().filter((s) => s.discovery?.ackedVersion !== undefined).length === 2, 'discovery ACKs');

    // A change of orders reaches web only (narrow does not call orders), as a delta.
    server.publish(desired, catalog({ orders: [1, 3], pay: [2] }));
    await until(() => got['web']!.length === 2, 'delta');
    expect(got['web']![1]).toMatchObject({ full: false, removed: [] });
    expect(got['web']![1]!.services.map((s) => s.name)).toEqual(['orders']);
    await new Promise((r) => setTimeout(r, 200));
    expect(got['narrow']).toHaveLength(1);
    // The sidecar without discovery support: only accepted policy ACKs, never a refusal.
    expect(acks.filter((a) => a.workload === 'shop/old-1').length).toBeGreaterThan(0);
    expect(acks.filter((a) => !a.accepted)).toEqual([]);
    const old = server.subscribers().find((s) => s.workload === 'shop/old-1')!;
    expect(old.ackedVersion).toBe(desired.get('shop/old-1')!.snapshot.version);
    expect(old.discovery?.ackedVersion).toBeUndefined();
  });
});
