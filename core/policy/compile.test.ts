import { describe, expect, it } from 'vitest';
import { buildRequestAttributes, type PlainRequest } from './build-request.ts';
import { compilePolicies, failClosedAuthorizer } from './compile.ts';
import { parsePolicyDocuments } from './load-policies.ts';
import { defaultMeshConfig, meshConfigSchema, type MeshConfig } from './mesh-config.ts';
import { REASONS } from './reasons.ts';
import type { Workload } from './selection.ts';
import {
  ALLOW_ALL, ALLOW_NOTHING, DENY_ALL, DENY_DEV_POST, DEV, HEADER, HTTPBIN, istioExampleCases, req, SLEEP, workload,
} from '../../test/fixtures/istio-policy-examples.ts';

function load(yaml: string) {
  const { policies, issues } = parsePolicyDocuments(yaml, 'test.yaml');
  expect(issues).toEqual([]);
  return policies.map((p) => p.policy);
}

function decide(yaml: string, r: PlainRequest, mesh: MeshConfig = defaultMeshConfig(), w: Workload = workload) {
  return compilePolicies(load(yaml), w, mesh).evaluate(buildRequestAttributes(r));
}

describe('compilePolicies: Istio documentation examples', () => {
  for (const c of istioExampleCases) {
    it(c.name, () => {
      const d = decide(c.yaml, c.req, defaultMeshConfig(), c.workload ?? workload);
      expect(d.decision).toBe(c.want);
      if (c.policy !== undefined) expect(d.policy).toBe(c.policy);
      if (c.rule !== undefined) expect(d.rule).toBe(c.rule);
      if (c.reason !== undefined) expect(d.reason).toBe(c.reason);
      expect(d.code).toBe(c.want === 'DENY' ? 'ZTMESH_POLICY_DENIED' : undefined);
    });
  }
});

describe('compilePolicies: selection and mesh settings', () => {
  it('defaultAction ALLOW (Istio migration) allows when no ALLOW policy selects the workload', () => {
    const mesh = meshConfigSchema.parse({ defaultAction: 'ALLOW' });
    expect(decide('', req(), mesh)).toMatchObject({ decision: 'ALLOW', reason: REASONS.defaultAllow });
    expect(decide(ALLOW_NOTHING, req(), mesh).decision).toBe('DENY');
  });

  it('a policy in the root namespace applies mesh-wide; other namespaces do not', () => {
    const root = ALLOW_ALL.replace('namespace: foo', 'namespace: ztmesh-system');
    expect(decide(root, req())).toMatchObject({ decision: 'ALLOW', policy: 'ztmesh-system/allow-all' });
    const elsewhere = ALLOW_ALL.replace('namespace: foo', 'namespace: bar');
    expect(decide(elsewhere, req()).reason).toBe(REASONS.defaultDeny);
    const mesh = meshConfigSchema.parse({ rootNamespace: 'mesh-root' });
    expect(decide(root, req(), mesh).decision).toBe('DENY');
  });

  it('the deny list wins over any ALLOW', () => {
    const mesh = meshConfigSchema.parse({ denyList: { spiffeIds: [SLEEP] } });
    expect(decide(ALLOW_ALL, req(), mesh)).toMatchObject({ decision: 'DENY', reason: REASONS.denyListed, code: 'ZTMESH_POLICY_DENY_LISTED' });
    expect(decide(ALLOW_ALL, req({ principal: DEV }), mesh).decision).toBe('ALLOW');
  });

  it('AUDIT marks the request and never changes the decision', () => {
    const audit = `${HEADER}metadata: {name: audit-admin, namespace: foo}\nspec:\n  action: AUDIT\n  rules:\n  - to:\n    - operation: {paths: ["/admin*"]}\n`;
    expect(decide(`${audit}---\n${ALLOW_ALL}`, req({ path: '/admin/x' }))).toMatchObject({ decision: 'ALLOW', audit: true, policy: 'foo/allow-all' });
    expect(decide(`${audit}---\n${ALLOW_ALL}`, req({ path: '/x' }))).toMatchObject({ decision: 'ALLOW', audit: false });
    expect(decide(audit, req({ path: '/admin' }))).toMatchObject({ decision: 'DENY', audit: true, reason: REASONS.defaultDeny });
  });

  it('dry-run policies never enforce; they report what they would decide', () => {
    const dryDeny = DENY_ALL.replace('metadata: {name: deny-all, namespace: foo}', 'metadata: {name: deny-all, namespace: foo, annotations: {"ztmesh.io/dry-run": "true"}}');
    const d = decide(`${dryDeny}---\n${ALLOW_ALL}`, req());
    expect(d).toMatchObject({ decision: 'ALLOW', policy: 'foo/allow-all' });
    expect(d.dryRun).toEqual([{ policy: 'foo/deny-all', decision: 'DENY' }]);
    const dryAllow = HTTPBIN.replace('namespace: foo', 'namespace: foo\n  annotations: {"istio.io/dry-run": "true"}');
    const d2 = decide(`${dryAllow}---\n${ALLOW_ALL}`, req());
    expect(d2.decision).toBe('ALLOW');
    expect(d2.dryRun).toEqual([{ policy: 'foo/httpbin', decision: 'DENY' }]);
    // A dry-run ALLOW policy does not count as "an ALLOW policy selects the workload".
    expect(decide(dryAllow, req()).reason).toBe(REASONS.defaultDeny);
  });

  it('hosts compare case-insensitively; ports exactly; templates by segment', () => {
    const p = `${HEADER}metadata: {name: ops, namespace: foo}
spec:
  rules:
  - to:
    - operation:
        hosts: ["httpbin.foo", "*.example.com"]
        ports: ["8080", 9090]
        paths: ["/api/{*}/items", "/files/{**}"]
`;
    expect(decide(p, req({ host: 'HTTPBIN.Foo', path: '/api/v1/items' })).decision).toBe('ALLOW');
    expect(decide(p, req({ host: 'a.Example.COM', port: 9090, path: '/files/a/b/c' })).decision).toBe('ALLOW');
    expect(decide(p, req({ host: 'httpbin.foo', path: '/api/v1/v2/items' })).decision).toBe('DENY');
    expect(decide(p, req({ host: 'httpbin.foo', path: '/files' })).decision).toBe('DENY');
    expect(decide(p, req({ host: 'httpbin.foo', path: '/api/v1/items', port: 8081 })).decision).toBe('DENY');
    expect(decide(p, req({ host: 'evil.com', path: '/api/v1/items' })).decision).toBe('DENY');
    // The Host port and a trailing dot are the client's to choose: they neither widen nor dodge a match.
    expect(decide(p, req({ host: 'httpbin.foo:8080', path: '/api/v1/items' })).decision).toBe('ALLOW');
    expect(decide(p, req({ host: 'HTTPBIN.foo.', path: '/api/v1/items' })).decision).toBe('ALLOW');
    expect(decide(p, req({ host: '[::1]:8080', path: '/api/v1/items' })).decision).toBe('DENY');
    const notHosts = `${HEADER}metadata: {name: d, namespace: foo}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation: {hosts: ["admin.example.com"]}\n`;
    for (const host of ['admin.example.com', 'Admin.Example.com', 'admin.example.com:443', 'admin.example.com.', 'admin.example.com.:80']) {
      expect(decide(`${notHosts}---\n${ALLOW_ALL}`, req({ host })).decision, host).toBe('DENY');
    }
    expect(decide(`${notHosts}---\n${ALLOW_ALL}`, req({ host: 'admin.example.com.evil' })).decision).toBe('ALLOW');
  });

  it('TCP connections: ALLOW rules with HTTP-only fields never match, DENY rules ignore those fields', () => {
    const tcp = req({ method: null, path: null, host: null });
    expect(decide(`${HEADER}metadata: {name: a, namespace: foo}\nspec:\n  rules:\n  - to:\n    - operation: {paths: ["/x"]}\n`, tcp).decision).toBe('DENY');
    expect(decide(`${HEADER}metadata: {name: a, namespace: foo}\nspec:\n  rules:\n  - to:\n    - operation: {ports: ["8080"]}\n`, tcp).decision).toBe('ALLOW');
    const denyPath = `${HEADER}metadata: {name: d, namespace: foo}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: ["dev"]}\n    to:\n    - operation: {paths: ["/admin"]}\n`;
    expect(decide(`${denyPath}---\n${ALLOW_ALL}`, { ...tcp, principal: DEV })).toMatchObject({ decision: 'DENY', policy: 'foo/d' });
    expect(decide(`${denyPath}---\n${ALLOW_ALL}`, tcp).decision).toBe('ALLOW');
  });

  it('principals are accepted with or without spiffe://, and with wildcards', () => {
    const p = (pattern: string) => `${HEADER}metadata: {name: p, namespace: foo}\nspec:\n  rules:\n  - from:\n    - source: {principals: ["${pattern}"]}\n`;
    expect(decide(p(SLEEP), req()).decision).toBe('ALLOW');
    expect(decide(p('cluster.local/ns/default/*'), req()).decision).toBe('ALLOW');
    expect(decide(p('*/sa/sleep'), req()).decision).toBe('ALLOW');
    expect(decide(p('*'), req()).decision).toBe('ALLOW');
    expect(decide(p('*'), req({ principal: null })).decision).toBe('DENY');
    expect(decide(p('cluster.local/ns/default/sa/sleep2'), req()).decision).toBe('DENY');
  });

  it('when: headers, notValues, source.ip, destination.port', () => {
    const p = `${HEADER}metadata: {name: w, namespace: foo}
spec:
  rules:
  - when:
    - key: request.headers[X-Env]
      values: ["prod*"]
      notValues: ["prod-legacy"]
    - key: source.ip
      values: ["10.0.0.0/8"]
    - key: destination.port
      values: ["8080"]
`;
    const headers = (v: string) => ({ headers: { 'x-env': v } });
    expect(decide(p, req(headers('prod-eu'))).decision).toBe('ALLOW');
    expect(decide(p, req(headers('prod-legacy'))).decision).toBe('DENY');
    expect(decide(p, req(headers('staging'))).decision).toBe('DENY');
    expect(decide(p, req()).decision).toBe('DENY');
    expect(decide(p, req({ ...headers('prod'), sourceIp: '11.0.0.1' })).decision).toBe('DENY');
    expect(decide(p, req({ ...headers('prod'), port: 80 })).decision).toBe('DENY');
  });

  it('a failed policy set denies everything with its own reason', () => {
    const a = failClosedAuthorizer('policy file unreadable', defaultMeshConfig());
    const d = a.evaluate(buildRequestAttributes(req()));
    expect(d.decision).toBe('DENY');
    expect(d.reason.startsWith(REASONS.invalidPolicySet)).toBe(true);
    expect(d.code).toBe('ZTMESH_POLICY_INVALID_SET');
  });

  it('explain reports the same decision and why each rule did not match', () => {
    const a = compilePolicies(load(`${HTTPBIN}---\n${DENY_DEV_POST}---\n${ALLOW_ALL.replace('namespace: foo', 'namespace: bar')}`), workload, defaultMeshConfig());
    const r = buildRequestAttributes(req({ method: 'POST' }));
    const e = a.explain(r);
    expect(e.decision).toEqual(a.evaluate(r));
    const httpbin = e.policies.find((p) => p.policy === 'foo/httpbin')!;
    expect(httpbin.rules[0]!.matched).toBe(false);
    expect(httpbin.rules[0]!.why.join(' ')).toContain('methods');
    expect(e.policies.find((p) => p.policy === 'bar/allow-all')!.notSelected).toContain('namespace');
  });

  it('version changes with the policy set', () => {
    const a = compilePolicies(load(ALLOW_ALL), workload, defaultMeshConfig());
    const b = compilePolicies(load(ALLOW_NOTHING), workload, defaultMeshConfig());
    expect(a.version).not.toBe(b.version);
    expect(compilePolicies(load(ALLOW_ALL), workload, defaultMeshConfig()).version).toBe(a.version);
  });
});
