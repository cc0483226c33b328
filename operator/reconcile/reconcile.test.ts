import { describe, expect, it } from 'vitest';
import { defaultMeshConfig } from '../../core/policy/mesh-config.ts';
import { reconcileDistribution } from './distribution-condition.ts';
import { nextStatus, type KubeObject } from './kube-object.ts';
import { reconcileMeshConfig } from './mesh-config-reconcile.ts';
import { reconcilePolicyAcceptance } from './policy-acceptance.ts';
import { reconcileWorkloads } from './workloads-reconcile.ts';

function policy(name: string, namespace: string, spec: unknown, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '7', generation: 2, ...extra }, spec, status: { conditions: [] } };
}
function pod(name: string, namespace: string, sa: string, labels: Record<string, string>, injected = true, phase = 'Running'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels, ...(injected ? { annotations: { 'ztmesh.io/status': '{}' } } : {}) }, spec: { serviceAccountName: sa }, status: { phase } };
}

describe('policy acceptance', () => {
  it('accepts valid policies (server fields dropped) and refuses invalid ones naming the field', () => {
    const out = reconcilePolicyAcceptance([
      policy('ok', 'shop', { selector: { matchLabels: { app: 'orders' } }, action: 'ALLOW' }, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'ztmesh.io/dry-run': 'true' } }),
      policy('bad', 'shop', { action: 'CUSTOM' }),
      policy('typo', 'shop', { rules: [{ form: [] }] }),
    ]);
    expect([...out.accepted.keys()]).toEqual(['shop/ok']);
    expect(out.accepted.get('shop/ok')!.metadata.annotations).toEqual({ 'ztmesh.io/dry-run': 'true' });
    expect(out.conditions.get('shop/ok')).toMatchObject({ type: 'Accepted', status: 'True', observedGeneration: 2 });
    expect(out.conditions.get('shop/bad')).toMatchObject({ status: 'False', reason: 'Invalid', field: 'spec.action' });
    expect(out.conditions.get('shop/typo')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(out.conditions.get('shop/typo')!.field).toBe('spec.rules[0].form');
  });
});

describe('mesh config', () => {
  it('reads the default MeshConfig, keeps the last good one when it turns invalid, ignores others', () => {
    const good = reconcileMeshConfig([{ metadata: { name: 'default', generation: 1 }, spec: { defaultAction: 'ALLOW' } }], undefined, 'example.org');
    expect(good.meshConfig.defaultAction).toBe('ALLOW');
    expect(good.meshConfig.trustDomain).toBe('example.org');
    const bad = reconcileMeshConfig([{ metadata: { name: 'default' }, spec: { defaultAction: 'MAYBE' } }, { metadata: { name: 'other' }, spec: {} }], good.meshConfig, 'example.org');
    expect(bad.meshConfig).toBe(good.meshConfig);
    expect(bad.conditions.get('default')).toMatchObject({ status: 'False', reason: 'Invalid', field: 'spec.defaultAction' });
    expect(bad.conditions.get('other')).toMatchObject({ status: 'False', reason: 'Ignored' });
    expect(reconcileMeshConfig([], good.meshConfig, 'example.org').meshConfig.defaultAction).toBe('DENY');
    expect(reconcileMeshConfig([{ metadata: { name: 'default' }, spec: { trustDomain: 'other.org' } }], undefined, 'example.org').conditions.get('default')).toMatchObject({ status: 'False', field: 'spec.trustDomain' });
  });
});

describe('workloads', () => {
  const mesh = { ...defaultMeshConfig(), trustDomain: 'example.org' };
  const accepted = reconcilePolicyAcceptance([
    policy('orders', 'shop', { selector: { matchLabels: { app: 'orders' } } }),
    policy('shop-wide', 'shop', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['evil'] } }] }] }),
    policy('mesh-wide', 'ztmesh-system', { action: 'AUDIT' }),
    policy('bank', 'bank', {}),
  ]).accepted;

  it('gives each meshed pod exactly the policies selecting it, with its identity', () => {
    const desired = reconcileWorkloads({
      pods: [pod('orders-1', 'shop', 'orders', { app: 'orders' }), pod('web-1', 'shop', 'web', { app: 'web' }), pod('plain', 'shop', 'x', {}, false), pod('done', 'shop', 'x', {}, true, 'Succeeded')],
      policies: accepted.values(),
      meshConfig: mesh,
    });
    expect([...desired.keys()].sort()).toEqual(['shop/orders-1', 'shop/web-1']);
    const orders = desired.get('shop/orders-1')!;
    expect(orders.identity).toBe('spiffe://example.org/ns/shop/sa/orders');
    expect(orders.snapshot.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['shop/orders', 'shop/shop-wide', 'ztmesh-system/mesh-wide']);
    expect(desired.get('shop/web-1')!.snapshot.policies.map((p) => p.metadata.name)).toEqual(['shop-wide', 'mesh-wide']);
  });

  it('versions are content hashes: stable for equal input, new when a selected policy changes', () => {
    const pods = [pod('orders-1', 'shop', 'orders', { app: 'orders' }), pod('web-1', 'shop', 'web', { app: 'web' })];
    const a = reconcileWorkloads({ pods, policies: accepted.values(), meshConfig: mesh });
    const b = reconcileWorkloads({ pods, policies: [...accepted.values()].reverse(), meshConfig: mesh });
    expect(b.get('shop/orders-1')!.snapshot.version).toBe(a.get('shop/orders-1')!.snapshot.version);
    const changed = reconcilePolicyAcceptance([policy('orders', 'shop', { selector: { matchLabels: { app: 'orders' } }, action: 'DENY' })]).accepted;
    const c = reconcileWorkloads({ pods, policies: changed.values(), meshConfig: mesh });
    expect(c.get('shop/orders-1')!.snapshot.version).not.toBe(a.get('shop/orders-1')!.snapshot.version);
  });

  it('the Distributed condition reports a sidecar\'s refusal with its reason', () => {
    const desired = reconcileWorkloads({ pods: [pod('orders-1', 'shop', 'orders', { app: 'orders' })], policies: accepted.values(), meshConfig: mesh });
    const v = desired.get('shop/orders-1')!.snapshot.version;
    const keys = [...accepted.keys()];
    const gens = new Map<string, number>();
    const ok = reconcileDistribution(desired, new Map([['shop/orders-1', { ackedVersions: [v], rejected: [] }]]), keys, gens);
    expect(ok.get('shop/orders')).toMatchObject({ status: 'True', reason: 'Acknowledged' });
    const nack = reconcileDistribution(desired, new Map([['shop/orders-1', { ackedVersions: [], rejected: [{ version: v, reason: 'bad' }] }]]), keys, gens);
    expect(nack.get('shop/orders')).toMatchObject({ status: 'False', reason: 'Rejected' });
    expect(nack.get('shop/orders')!.message).toContain('bad');
    const pending = reconcileDistribution(desired, new Map([['shop/orders-1', { ackedVersions: ['old'], rejected: [] }]]), keys, gens);
    expect(pending.get('shop/orders')).toMatchObject({ status: 'Unknown', reason: 'Pending' });
  });
});

describe('nextStatus', () => {
  it('keeps lastTransitionTime while the status holds, and says when nothing changed', () => {
    const c = { type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'm', observedGeneration: 1 };
    const first = nextStatus(undefined, { observedGeneration: 1, conditions: [c] }, 't1')!;
    expect(first.conditions[0]!.lastTransitionTime).toBe('t1');
    expect(nextStatus(first, { observedGeneration: 1, conditions: [c] }, 't2')).toBeUndefined();
    const msg = nextStatus(first, { observedGeneration: 2, conditions: [{ ...c, message: 'n', observedGeneration: 2 }] }, 't3')!;
    expect(msg.conditions[0]!.lastTransitionTime).toBe('t1');
    const flip = nextStatus(first, { observedGeneration: 2, conditions: [{ ...c, status: 'False' }] }, 't4')!;
    expect(flip.conditions[0]!.lastTransitionTime).toBe('t4');
  });
});
