import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DenyList } from '../../core/policy/deny-list.ts';
import type { RequestAttributes } from '../../core/policy/request.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { startPolicySource, type PolicySource } from './policy-source.ts';

const FRONTEND = 'spiffe://example.org/ns/shop/sa/frontend' as SpiffeId;
const policy = (principal: string) => `apiVersion: ztmesh.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: orders, namespace: shop }
spec:
  selector: { matchLabels: { app: orders } }
  rules:
  - from: [{ source: { principals: ["${principal}"] } }]
    to: [{ operation: { methods: [GET] } }]
`;

const request: RequestAttributes = {
  principal: FRONTEND, sourceIp: '127.0.0.1', destinationPort: 8080, method: 'GET', path: '/orders', host: 'orders',
  header: () => undefined, requestPrincipal: undefined, claims: undefined,
};

function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const open: PolicySource[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function setup(initial: { policy: string; mesh?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-policy-source-'));
  const policyFile = join(dir, 'policy.yaml');
  const meshConfigFile = join(dir, 'mesh.yaml');
  writeFileSync(policyFile, initial.policy);
  writeFileSync(meshConfigFile, initial.mesh ?? 'defaultAction: DENY\n');
  const registry = new Registry();
  const denyLists: DenyList[] = [];
  const versions: string[] = [];
  const source = await startPolicySource({
    policyFile, meshConfigFile, workload: { namespace: 'shop', labels: { app: 'orders' } }, trustDomain: 'example.org',
    metrics: registry, logger: silentLogger(), onChange: (a) => versions.push(a.version), onDenyListChange: (d) => denyLists.push(d), debounceMs: 20,
  });
  open.push(source);
  return { policyFile, meshConfigFile, registry, source, denyLists, versions };
}

describe('startPolicySource', () => {
  it('compiles the set for this workload and reloads it on change (allowed → denied)', async () => {
    const t = await setup({ policy: policy(FRONTEND) });
    const v1 = t.source.authorizer()!;
    expect(v1.evaluate(request).decision).toBe('ALLOW');
    expect(t.versions).toEqual([v1.version]);
    atomicWrite(t.policyFile, policy('spiffe://example.org/ns/shop/sa/admin'));
    expect(await t.source.reload()).toBe(true);
    const v2 = t.source.authorizer()!;
    expect(v2.evaluate(request).decision).toBe('DENY');
    expect(t.versions).toEqual([v1.version, v2.version]);
    expect(t.registry.render()).toContain('ztmesh_policy_reloads_total 2');
  });

  it('keeps the last good set when a new file is invalid, and counts the error', async () => {
    const t = await setup({ policy: policy(FRONTEND) });
    const good = t.source.authorizer()!;
    atomicWrite(t.policyFile, policy(FRONTEND).replace('methods: [GET]', 'methods: [GET], bogus: 1'));
    expect(await t.source.reload()).toBe(false);
    expect(t.source.authorizer()).toBe(good);
    atomicWrite(t.meshConfigFile, 'defaultAction: MAYBE\n');
    expect(await t.source.reload()).toBe(false);
    expect(t.source.authorizer()).toBe(good);
    const metrics = t.registry.render();
    expect(metrics).toContain('ztmesh_policy_reload_errors_total{code="ZTMESH_POLICY_INVALID"} 1');
    expect(metrics).toContain('ztmesh_policy_reload_errors_total{code="ZTMESH_CONFIG_INVALID"} 1');
  });

  it('fails closed at start: no authorizer while the file is invalid, then picks up a fixed file', async () => {
    const t = await setup({ policy: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n' });
    expect(t.source.authorizer()).toBeUndefined();
    atomicWrite(t.policyFile, policy(FRONTEND));
    expect(await t.source.reload()).toBe(true);
    expect(t.source.authorizer()?.evaluate(request).decision).toBe('ALLOW');
  });

  it('checks peers against the deny list and reports changes to it', async () => {
    const t = await setup({ policy: policy(FRONTEND) });
    expect(t.source.peerAllowed({ id: FRONTEND, serial: '0A1B' })).toBeUndefined();
    atomicWrite(t.meshConfigFile, `denyList: { spiffeIds: ["${FRONTEND}"], serials: ["0c:0d"] }\n`);
    expect(await t.source.reload()).toBe(true);
    expect(t.denyLists).toHaveLength(1);
    expect(t.denyLists[0]!.hasSpiffeId(FRONTEND)).toBe(true);
    expect(t.source.peerAllowed({ id: FRONTEND, serial: '01' })).toMatch(/deny list/);
    expect(t.source.peerAllowed({ id: 'spiffe://example.org/ns/shop/sa/x' as SpiffeId, serial: 'C0D' })).toMatch(/serial/);
    expect(t.source.authorizer()!.evaluate(request).decision).toBe('DENY');
  });

  it('notices a change through the file watcher', async () => {
    const t = await setup({ policy: policy(FRONTEND) });
    const before = t.source.authorizer()!.version;
    atomicWrite(t.policyFile, policy('spiffe://example.org/ns/shop/sa/admin'));
    await expect.poll(() => t.source.authorizer()!.version, { timeout: 5000, interval: 20 }).not.toBe(before);
  });
});
