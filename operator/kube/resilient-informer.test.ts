import { CoreV1Api, CustomObjectsApi, type KubernetesListObject, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { FakeKubeApiServer } from '../testing/fake-kube-api.ts';
import { ResilientInformer } from './resilient-informer.ts';

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

function pod(name: string, labels: Record<string, string> = {}) {
  return { metadata: { name, namespace: 'shop', labels }, spec: { serviceAccountName: 'orders', containers: [{ name: 'app', image: 'x' }] } };
}

async function setup(backoff = { initialMs: 50, maxMs: 400 }) {
  const api = await FakeKubeApiServer.start({ bookmarkMs: 50 });
  cleanup.push(() => api.close());
  const kc = api.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  let changes = 0;
  const informer = new ResilientInformer<V1Pod>({ name: 'pods', kubeConfig: kc, path: '/api/v1/pods', list: () => core.listPodForAllNamespaces(), logger: silentLogger(), onChange: () => changes++, backoff, resyncMs: 0 });
  cleanup.push(() => informer.stop());
  return { api, informer, changes: () => changes };
}

describe('ResilientInformer against the fake API server', () => {
  it('lists, then follows creates, updates and deletes', async () => {
    const { api, informer } = await setup();
    api.apply('pods', pod('a'));
    await informer.start();
    expect(informer.health()).toMatchObject({ synced: true, healthy: true });
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['a']);
    api.apply('pods', pod('b'));
    api.apply('pods', pod('a', { app: 'orders' }));
    await until(() => informer.list().length === 2 && informer.list().find((p) => p.metadata?.name === 'a')?.metadata?.labels?.['app'] === 'orders', 'add + update');
    api.remove('pods', 'shop', 'b');
    await until(() => informer.list().length === 1, 'delete');
  });

  it('relists after 410 Gone when its resourceVersion expired while the watch was down', async () => {
    const { api, informer } = await setup();
    await informer.start();
    api.apply('pods', pod('a'));
    await until(() => informer.list().length === 1, 'first pod');
    // The watch breaks; meanwhile objects change and the history is compacted.
    api.store.compact();
    api.dropWatches();
    api.remove('pods', 'shop', 'a');
    api.apply('pods', pod('c'));
    api.store.compact();
    await until(() => informer.list().map((p) => p.metadata?.name).join() === 'c', 'relist after 410');
    const lists = api.requests.filter((r) => r.plural === 'pods' && !r.watch && r.method === 'GET').length;
    expect(lists).toBeGreaterThanOrEqual(2);
  });

  it('asks for bookmarks, so a quiet watch keeps a fresh resourceVersion', async () => {
    const { api, informer } = await setup();
    await informer.start();
    // Other kinds move the global resourceVersion; pods stay quiet.
    api.apply('namespaces', { metadata: { name: 'shop' } });
    api.store.compact();
    await new Promise((r) => setTimeout(r, 200));
    api.dropWatches();
    api.apply('pods', pod('late'));
    await until(() => informer.list().length === 1, 'event after reconnect');
    // Resumed from the bookmark: no relist was needed.
    expect(api.requests.filter((r) => r.plural === 'pods' && !r.watch).length).toBe(1);
  });

  it('restarts after failed lists with jittered backoff instead of hammering, and reports health', async () => {
    const { api, informer } = await setup({ initialMs: 100, maxMs: 400 });
    api.failNext('pods', 3);
    const started = Date.now();
    await informer.start();
    expect(informer.health()).toMatchObject({ synced: false, healthy: false });
    expect(informer.health().lastError).toMatch(/500/);
    await until(() => informer.health().healthy, 'recovery');
    expect(informer.health().restarts).toBe(3);
    // Three waits of at least 50, 100 and 200 ms: the failures were spread out.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(api.requests.filter((r) => r.plural === 'pods' && !r.watch).length).toBe(4);
  });

  it('serves custom resources and their status subresource through the real client', async () => {
    const api = await FakeKubeApiServer.start();
    cleanup.push(() => api.close());
    const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
    const body = { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'shop' }, spec: { action: 'ALLOW' } };
    const created = (await custom.createNamespacedCustomObject({ group: 'ztmesh.io', version: 'v1alpha1', namespace: 'shop', plural: 'authorizationpolicies', body })) as KubernetesObject & { metadata: { generation: number } };
    expect(created.metadata.generation).toBe(1);
    await expect(custom.createNamespacedCustomObject({ group: 'ztmesh.io', version: 'v1alpha1', namespace: 'shop', plural: 'authorizationpolicies', body })).rejects.toMatchObject({ code: 409 });
    const patched = (await custom.patchNamespacedCustomObjectStatus({ group: 'ztmesh.io', version: 'v1alpha1', namespace: 'shop', plural: 'authorizationpolicies', name: 'p', body: [{ op: 'add', path: '/status', value: { conditions: [{ type: 'Accepted', status: 'True' }] } }] })) as { status: unknown; metadata: { generation: number } };
    expect(patched.status).toEqual({ conditions: [{ type: 'Accepted', status: 'True' }] });
    expect(patched.metadata.generation).toBe(1);
    const list = (await custom.listClusterCustomObject({ group: 'ztmesh.io', version: 'v1alpha1', plural: 'authorizationpolicies' })) as KubernetesListObject<KubernetesObject>;
    expect(list.items).toHaveLength(1);
    await expect(custom.getNamespacedCustomObject({ group: 'ztmesh.io', version: 'v1alpha1', namespace: 'shop', plural: 'authorizationpolicies', name: 'nope' })).rejects.toMatchObject({ code: 404 });
  });
});
