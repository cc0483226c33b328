import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { FakeKubeApiServer } from '../testing/fake-kube-api.ts';
import { LeaseElector } from './lease-elector.ts';

const cleanup: (() => unknown)[] = [];
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

describe('LeaseElector', () => {
  it('elects exactly one of two replicas, and hands over when the leader stops', async () => {
    const api = await FakeKubeApiServer.start();
    cleanup.push(() => api.close());
    const make = (identity: string) => {
      const e = new LeaseElector({ kubeConfig: api.kubeConfig(), namespace: 'ztmesh-system', name: 'ztmesh-operator', identity, logger: silentLogger(), leaseDurationMs: 1000, retryMs: 50 });
      cleanup.push(() => e.stop());
      return e;
    };
    const a = make('a');
    const b = make('b');
    a.start();
    b.start();
    await until(() => a.isLeader() || b.isLeader(), 'a leader');
    await new Promise((r) => setTimeout(r, 200));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    await leader.stop();
    await until(() => follower.isLeader(), 'handover');
    expect(leader.isLeader()).toBe(false);
    const lease = api.store.get(api.resource('leases'), 'ztmesh-system', 'ztmesh-operator') as unknown as { spec: { leaseTransitions: number } };
    expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  it('takes over an expired lease of a replica that vanished', async () => {
    const api = await FakeKubeApiServer.start();
    cleanup.push(() => api.close());
    api.apply('leases', { metadata: { name: 'ztmesh-operator', namespace: 'ztmesh-system' }, spec: { holderIdentity: 'gone', leaseDurationSeconds: 1, renewTime: new Date(Date.now() - 5000).toISOString() } });
    const e = new LeaseElector({ kubeConfig: api.kubeConfig(), namespace: 'ztmesh-system', name: 'ztmesh-operator', identity: 'me', logger: silentLogger(), retryMs: 50 });
    cleanup.push(() => e.stop());
    e.start();
    await until(() => e.isLeader(), 'takeover');
  });
});
