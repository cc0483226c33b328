import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/telemetry/logger.ts';
import { startOperator, type RunningOperator } from '../operator/operator-runtime.ts';
import { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities } from '../operator/testing/mesh-identities.ts';

/** Two operator replicas against one API server: both serve distribution, only the Lease holder writes status. */
let api: FakeKubeApiServer;
const replicas = new Map<string, RunningOperator>();

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function statusOf(name: string): { conditions?: { type: string; status: string }[] } | undefined {
  return api.store.get(api.resource('authorizationpolicies'), 'shop', name)['status'] as never;
}

function badPolicy(name: string) {
  return { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'shop' }, spec: { action: 'CUSTOM' } };
}

beforeAll(async () => {
  api = await FakeKubeApiServer.start({ bookmarkMs: 500 });
  const ids = await createMeshIdentities('example.org');
  for (const name of ['replica-a', 'replica-b']) {
    replicas.set(
      name,
      await startOperator({
        kubeConfig: api.kubeConfig(name),
        trustDomain: 'example.org',
        identity: await ids.operator(),
        distributionListen: '127.0.0.1:0',
        adminListen: '127.0.0.1:0',
        lease: { namespace: 'ztmesh-system', name: 'ztmesh-operator-leader', identity: name, durationMs: 2000, retryMs: 100 },
        logger: silentLogger(),
      }),
    );
  }
});

afterAll(async () => {
  for (const r of replicas.values()) await r.stop();
  await api?.close();
});

describe('two operator replicas', () => {
  it('only the Lease holder writes status; the other takes over when it stops', async () => {
    await until(() => [...replicas.values()].some((r) => r.loop.view().leader), 'a leader');
    const leaderName = [...replicas].find(([, r]) => r.loop.view().leader)![0];
    const followerName = leaderName === 'replica-a' ? 'replica-b' : 'replica-a';
    expect(replicas.get(followerName)!.loop.view().leader).toBe(false);
    api.apply('authorizationpolicies', badPolicy('first'));
    await until(() => statusOf('first')?.conditions?.[0]?.status === 'False', 'status of first');
    const statusWriters = () => new Set(api.requests.filter((r) => r.subresource === 'status' && r.method !== 'GET').map((r) => r.token));
    expect([...statusWriters()]).toEqual([leaderName]);

    await replicas.get(leaderName)!.stop();
    replicas.delete(leaderName);
    await until(() => replicas.get(followerName)!.loop.view().leader, 'takeover');
    api.apply('authorizationpolicies', badPolicy('second'));
    await until(() => statusOf('second')?.conditions?.[0]?.status === 'False', 'status of second');
    expect([...statusWriters()].sort()).toEqual([leaderName, followerName].sort());
    const lease = api.store.get(api.resource('leases'), 'ztmesh-system', 'ztmesh-operator-leader') as unknown as { spec: { holderIdentity: string } };
    expect(lease.spec.holderIdentity).toBe(followerName);
  });
});
