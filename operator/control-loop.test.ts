import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/telemetry/logger.ts';
import { ControlLoop, type ObservedSources } from './control-loop.ts';
import type { RunningDistributionServer, SubscriberStatus } from './distribute/distribution-server.ts';
import type { StatusWriter } from './kube/status-writer.ts';
import type { DesiredState } from './reconcile/desired-state.ts';
import type { ResourceStatus } from './reconcile/kube-object.ts';
import type { DiscoveryCatalog } from './reconcile/service-discovery.ts';

/** Hand-written fakes: caches as plain arrays, a distribution that records publishes, a recording status writer. */
function fixture(options: { synced: boolean; leader: boolean }) {
  const objects = {
    policies: [] as KubernetesObject[],
    meshConfigs: [] as KubernetesObject[],
    pods: [] as KubernetesObject[],
    namespaces: [] as KubernetesObject[],
    serviceAccounts: [] as KubernetesObject[],
    services: [] as KubernetesObject[],
    endpointSlices: [] as KubernetesObject[],
  };
  const cache = (list: KubernetesObject[]) => ({ list: () => list });
  let synced = options.synced;
  const sources: ObservedSources = { policies: cache(objects.policies), meshConfigs: cache(objects.meshConfigs), pods: cache(objects.pods), namespaces: cache(objects.namespaces), serviceAccounts: cache(objects.serviceAccounts), services: cache(objects.services), endpointSlices: cache(objects.endpointSlices), synced: () => synced };
  const published: DesiredState[] = [];
  const catalogs: (DiscoveryCatalog | undefined)[] = [];
  const subs: SubscriberStatus[] = [];
  const distribution: RunningDistributionServer = { port: 0, publish: (d, c) => {
    published.push(d);
    catalogs.push(c);
  }, subscribers: () => subs, rotate: () => undefined, close: async () => undefined };
  const writes: { name: string; status: ResourceStatus }[] = [];
  const statusWriter: StatusWriter = { write: async (t, status) => void writes.push({ name: t.name, status }) };
  let leader = options.leader;
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('control-loop-test');
  const loop = new ControlLoop({ sources, distribution, statusWriter, isLeader: () => leader, trustDomain: 'example.org', logger: silentLogger(), tracer });
  return { exporter, objects, loop, published, catalogs, writes, subs, setSynced: (v: boolean) => (synced = v), setLeader: (v: boolean) => (leader = v) };
}

const pod = { metadata: { name: 'orders-1', namespace: 'shop', labels: { app: 'orders' }, annotations: { 'ztmesh.io/status': '{}' } }, spec: { serviceAccountName: 'orders', containers: [] } } as KubernetesObject;
const good = { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'ok', namespace: 'shop', generation: 1 }, spec: { selector: { matchLabels: { app: 'orders' } } } } as KubernetesObject;
const bad = { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'bad', namespace: 'shop', generation: 3 }, spec: { action: 'CUSTOM' } } as KubernetesObject;

describe('ControlLoop', () => {
  it('traces each reconcile with the accepted and refused policy counts', () => {
    const f = fixture({ synced: true, leader: false });
    f.objects.pods.push(pod);
    f.objects.policies.push(good, bad);
    f.loop.reconcile();
    const [span] = f.exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'operator.reconcile', attributes: { 'ztmesh.policies.accepted': 1, 'ztmesh.policies.refused': 1, 'ztmesh.leader': false } });
  });

  it('publishes nothing before every watch synced (an empty view would cut every sidecar off)', () => {
    const f = fixture({ synced: false, leader: true });
    f.objects.pods.push(pod);
    f.loop.reconcile();
    expect(f.published).toEqual([]);
    f.setSynced(true);
    f.loop.reconcile();
    expect([...f.published[0]!.keys()]).toEqual(['shop/orders-1']);
  });

  it('publishes on every replica but writes status only as leader, and only what changed', async () => {
    const f = fixture({ synced: true, leader: false });
    f.objects.pods.push(pod);
    f.objects.policies.push(good, bad);
    f.loop.reconcile();
    expect(f.published[0]!.get('shop/orders-1')!.snapshot.policies.map((p) => p.metadata.name)).toEqual(['ok']);
    await new Promise((r) => setImmediate(r));
    expect(f.writes).toEqual([]);
    f.setLeader(true);
    f.loop.reconcile();
    await new Promise((r) => setTimeout(r, 10));
    const byName = new Map(f.writes.map((w) => [w.name, w.status]));
    expect(byName.get('bad')).toMatchObject({ observedGeneration: 3, conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', field: 'spec.action' }] });
    expect(byName.get('ok')!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'Distributed=True']);
    // The informer now shows the written status: nothing more to write.
    (good as { status?: unknown }).status = byName.get('ok');
    (bad as { status?: unknown }).status = byName.get('bad');
    f.writes.length = 0;
    f.loop.reconcile();
    await new Promise((r) => setTimeout(r, 10));
    expect(f.writes).toEqual([]);
    expect(f.loop.view().policies.map((p) => `${p.key}:${p.accepted}`)).toEqual(['shop/bad:false', 'shop/ok:true']);
  });

  it('publishes the endpoint discovery catalog with the desired state, and shows it with what was left out', () => {
    const f = fixture({ synced: true, leader: false });
    f.objects.pods.push(pod);
    f.objects.namespaces.push({ metadata: { name: 'shop', labels: { 'ztmesh.io/inject': 'enabled' } } } as KubernetesObject);
    f.objects.services.push({ metadata: { name: 'orders', namespace: 'shop' }, spec: { ports: [{ port: 80, targetPort: 8080 }] } } as KubernetesObject);
    f.objects.endpointSlices.push({
      metadata: { name: 'orders-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'orders' } }, addressType: 'IPv4', ports: [{ port: 8080 }],
      endpoints: [{ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: 'orders-1', namespace: 'shop' } }, { addresses: ['10.0.0.2'], targetRef: { kind: 'Pod', name: 'gone', namespace: 'shop' } }],
    } as KubernetesObject);
    f.loop.reconcile();
    const endpoints = f.catalogs[0]!.services.get('orders.shop')!.ports[0]!.endpoints;
    expect(endpoints.map((e) => `${e.address}:${e.port} ${e.identity}`)).toEqual(['10.0.0.1:8080 spiffe://example.org/ns/shop/sa/orders']);
    expect(f.loop.view().discovery).toEqual({ services: [{ service: 'orders.shop', ports: [{ port: 80, endpoints: 1 }] }], leftOut: [{ service: 'orders.shop', address: '10.0.0.2', reason: 'pod unknown' }] });
  });
});
