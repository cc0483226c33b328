import { afterEach, describe, expect, it } from 'vitest';
import { buildRequestAttributes } from '../../core/policy/build-request.ts';
import { meshConfigSchema } from '../../core/policy/mesh-config.ts';
import { authorizationPolicySchema } from '../../core/policy/schema.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startDistributionServer } from '../../operator/distribute/distribution-server.ts';
import { buildSnapshot } from '../../operator/reconcile/desired-state.ts';
import { createMeshIdentities } from '../../operator/testing/mesh-identities.ts';
import type { DenyList } from '../../core/policy/deny-list.ts';
import { startControlPolicySource } from './control-policy-source.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('control policy source', () => {
  it('denies everything until the first push, then enforces the pushed policies and deny list', async () => {
    const ids = await createMeshIdentities('example.org');
    const server = await startDistributionServer({ listen: '127.0.0.1:0', identity: await ids.operator(), trustDomain: 'example.org', logger: silentLogger() });
    cleanup.push(() => server.close());
    const creds = await ids.sidecar('shop', 'orders');
    const denyLists: DenyList[] = [];
    const source = startControlPolicySource({ address: `127.0.0.1:${server.port}`, operatorIdentity: ids.operatorId, credentials: () => creds, namespace: 'shop', podName: 'orders-1', logger: silentLogger(), backoff: { initialMs: 20, maxMs: 100 }, onDenyListChange: (l) => denyLists.push(l) });
    cleanup.push(() => source.close());
    expect(source.authorizer()).toBeUndefined();
    const policy = authorizationPolicySchema.parse({ apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-web', namespace: 'shop' }, spec: { rules: [{ from: [{ source: { principals: ['example.org/ns/shop/sa/web'] } }] }] } });
    const meshConfig = meshConfigSchema.parse({ trustDomain: 'example.org', denyList: { spiffeIds: ['spiffe://example.org/ns/shop/sa/evil'] } });
    const labels = { app: 'orders' };
    server.publish(new Map([['shop/orders-1', { namespace: 'shop', podName: 'orders-1', serviceAccount: 'orders', identity: kubernetesSpiffeId('example.org', 'shop', 'orders'), labels, snapshot: buildSnapshot({ policies: [policy], meshConfig, namespace: 'shop', labels }) }]]));
    await source.subscriber.firstSnapshot();
    const decide = (sa: string) => source.authorizer()!.evaluate(buildRequestAttributes({ principal: `spiffe://example.org/ns/shop/sa/${sa}`, port: 8080, method: 'GET', path: '/' })).decision;
    expect(decide('web')).toBe('ALLOW');
    expect(decide('db')).toBe('DENY');
    expect(source.peerAllowed({ id: kubernetesSpiffeId('example.org', 'shop', 'evil'), serial: '01' })).toMatch(/deny list/);
    expect(source.peerAllowed({ id: kubernetesSpiffeId('example.org', 'shop', 'web'), serial: '01' })).toBeUndefined();
    expect(denyLists).toHaveLength(1);
  });
});
