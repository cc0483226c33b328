import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultMeshConfig } from '../../core/policy/mesh-config.ts';
import { authorizationPolicySchema, type AuthorizationPolicy } from '../../core/policy/schema.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startPolicySubscriber, type PolicySubscriber } from '../../sidecar/control/policy-subscriber.ts';
import type { AppliedSnapshot } from '../../sidecar/control/apply-snapshot.ts';
import { buildSnapshot, workloadKey, type DesiredState, type DesiredWorkload } from '../reconcile/desired-state.ts';
import { createMeshIdentities, type MeshIdentities } from '../testing/mesh-identities.ts';
import { distributionServiceDefinition } from './distribution-proto.ts';
import { startDistributionServer, type AckEvent, type RunningDistributionServer } from './distribution-server.ts';

const TD = 'example.org';
let ids: MeshIdentities;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  ids = await createMeshIdentities(TD);
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function policy(name: string, app: string, action: 'ALLOW' | 'DENY' = 'ALLOW'): AuthorizationPolicy {
  return authorizationPolicySchema.parse({
    apiVersion: 'ztmesh.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'shop' },
    spec: { selector: { matchLabels: { app } }, action, rules: [{ from: [{ source: { principals: [`${TD}/ns/shop/sa/web`] } }] }] },
  });
}

function workload(pod: string, sa: string, app: string, policies: AuthorizationPolicy[], namespace = 'shop'): DesiredWorkload {
  const labels = { app };
  return { namespace: 'shop', podName: pod, serviceAccount: sa, identity: kubernetesSpiffeId(TD, 'shop', sa), labels, snapshot: buildSnapshot({ policies, meshConfig: defaultMeshConfig(), namespace, labels }) };
}

function state(...ws: DesiredWorkload[]): DesiredState {
  return new Map(ws.map((w) => [workloadKey(w.namespace, w.podName), w]));
}

async function server(acks: AckEvent[] = [], listen = '127.0.0.1:0'): Promise<RunningDistributionServer> {
  const s = await startDistributionServer({ listen, identity: await ids.operator(), trustDomain: TD, logger: silentLogger(), onAck: (e) => acks.push(e) });
  cleanup.push(() => s.close());
  return s;
}

async function subscriber(port: number, sa: string, pod: string, seen: AppliedSnapshot[] = [], rejects: string[] = []): Promise<PolicySubscriber> {
  const creds = await ids.sidecar('shop', sa);
  const sub = startPolicySubscriber({
    address: `127.0.0.1:${port}`,
    operatorIdentity: ids.operatorId,
    credentials: () => creds,
    namespace: 'shop',
    podName: pod,
    logger: silentLogger(),
    backoff: { initialMs: 20, maxMs: 100 },
    onSnapshot: (s) => seen.push(s),
    onReject: (_v, reason) => rejects.push(reason),
  });
  cleanup.push(() => sub.close());
  return sub;
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw stream, to see the status a refused subscription ends with. */
async function rawSubscribe(port: number, sa: string, request: { namespace: string; podName: string }): Promise<grpc.ServiceError> {
  const creds = await ids.sidecar('shop', sa);
  const Client = distributionServiceDefinition();
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createFromSecureContext(creds.clientContext, { checkServerIdentity: () => undefined }));
  cleanup.push(() => client.close());
  const call = (client as unknown as { subscribe: () => grpc.ClientDuplexStream<unknown, unknown> }).subscribe.call(client);
  const data: unknown[] = [];
  call.on('data', (d) => data.push(d));
  return new Promise((resolve) => {
    call.on('error', (err: grpc.ServiceError) => {
      expect(data).toEqual([]);
      resolve(err);
    });
    call.write({ subscribe: { ...request, knownVersion: '' } });
  });
}

describe('policy distribution over mTLS', () => {
  it('gives each sidecar only the policies selecting its own workload, and records ACKs', async () => {
    const acks: AckEvent[] = [];
    const s = await server(acks);
    const ordersPolicy = policy('orders-allow', 'orders');
    const dbPolicy = policy('db-allow', 'db');
    s.publish(state(workload('orders-1', 'orders', 'orders', [ordersPolicy]), workload('db-1', 'db', 'db', [dbPolicy])));
    const ordersSeen: AppliedSnapshot[] = [];
    const dbSeen: AppliedSnapshot[] = [];
    const orders = await subscriber(s.port, 'orders', 'orders-1', ordersSeen);
    const db = await subscriber(s.port, 'db', 'db-1', dbSeen);
    await orders.firstSnapshot();
    await db.firstSnapshot();
    expect(ordersSeen[0]!.policies.map((p) => p.metadata.name)).toEqual(['orders-allow']);
    expect(dbSeen[0]!.policies.map((p) => p.metadata.name)).toEqual(['db-allow']);
    await until(() => s.subscribers().every((x) => x.ackedVersion !== undefined) && s.subscribers().length === 2, 'acks');
    expect(acks.filter((a) => a.accepted).map((a) => a.workload).sort()).toEqual(['shop/db-1', 'shop/orders-1']);

    // A change reaches only the workload it concerns, as a new version.
    const before = dbSeen.length;
    s.publish(state(workload('orders-1', 'orders', 'orders', [ordersPolicy, policy('orders-deny', 'orders', 'DENY')]), workload('db-1', 'db', 'db', [dbPolicy])));
    await until(() => ordersSeen.length === 2, 'second orders snapshot');
    expect(ordersSeen[1]!.version).not.toBe(ordersSeen[0]!.version);
    expect(ordersSeen[1]!.authorizer.selected).toEqual(['shop/orders-allow', 'shop/orders-deny']);
    expect(dbSeen.length).toBe(before);
  });

  it('refuses a subscription for another namespace or another service account\'s pod with PERMISSION_DENIED', async () => {
    const s = await server();
    s.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-allow', 'orders')])));
    const otherPod = await rawSubscribe(s.port, 'web', { namespace: 'shop', podName: 'orders-1' });
    expect(otherPod.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(otherPod.details).toMatch(/^ZTMESH_CONTROL_PERMISSION_DENIED:/);
    const otherNs = await rawSubscribe(s.port, 'orders', { namespace: 'bank', podName: 'orders-1' });
    expect(otherNs.code).toBe(grpc.status.PERMISSION_DENIED);
    const unknown = await rawSubscribe(s.port, 'orders', { namespace: 'shop', podName: 'orders-2' });
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
  });

  it('a refused push is NACKed with its reason and the previous snapshot stays in force', async () => {
    const acks: AckEvent[] = [];
    const s = await server(acks);
    s.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-allow', 'orders')])));
    const rejects: string[] = [];
    const orders = await subscriber(s.port, 'orders', 'orders-1', [], rejects);
    const good = await orders.firstSnapshot();
    s.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-deny', 'orders', 'DENY')], 'bank')));
    await until(() => acks.some((a) => !a.accepted), 'a NACK');
    expect(rejects).toHaveLength(1);
    expect(orders.current()?.version).toBe(good.version);
    const nack = acks.find((a) => !a.accepted)!;
    expect(nack.reason).toMatch(/namespace/);
    expect(nack.policies).toEqual(['shop/orders-deny']);
    expect(s.subscribers()[0]!.rejected?.version).toBe(nack.version);
  });

  it('keeps the last good snapshot while the operator is gone and resyncs when it is back', async () => {
    const first = await server();
    const port = first.port;
    first.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-allow', 'orders')])));
    const seen: AppliedSnapshot[] = [];
    const orders = await subscriber(port, 'orders', 'orders-1', seen);
    const good = await orders.firstSnapshot();
    await first.close();
    await until(() => !orders.connected(), 'disconnect');
    expect(orders.current()?.version).toBe(good.version);
    const second = await server([], `127.0.0.1:${port}`);
    second.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-deny', 'orders', 'DENY')])));
    await until(() => seen.length === 2, 'resync after restart', 5000);
    expect(orders.connected()).toBe(true);
    expect(seen[1]!.authorizer.selected).toEqual(['shop/orders-deny']);
  });

  it('a sidecar refuses an operator presenting another SPIFFE ID', async () => {
    const impostorSvid = await ids.ca.mint({ spiffeId: kubernetesSpiffeId(TD, 'shop', 'web') });
    const s = await startDistributionServer({ listen: '127.0.0.1:0', identity: { certChainPem: impostorSvid.certChainPem, keyPem: impostorSvid.keyPem, bundlePem: ids.ca.bundlePem }, trustDomain: TD, logger: silentLogger() });
    cleanup.push(() => s.close());
    s.publish(state(workload('orders-1', 'orders', 'orders', [policy('orders-allow', 'orders')])));
    const orders = await subscriber(s.port, 'orders', 'orders-1');
    await new Promise((r) => setTimeout(r, 300));
    expect(orders.current()).toBeUndefined();
    expect(s.subscribers()).toEqual([]);
  });
});
