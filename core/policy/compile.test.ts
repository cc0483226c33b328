import { describe, expect, it } from 'vitest';
import { buildRequestAttributes, type PlainRequest } from './build-request.ts';
import { compilePolicies, failClosedAuthorizer } from './compile.ts';
import { parsePolicyDocuments } from './load-policies.ts';
import { defaultMeshConfig, meshConfigSchema, type MeshConfig } from './mesh-config.ts';
import { REASONS } from './reasons.ts';
import type { Workload } from './selection.ts';

function load(yaml: string) {
  const { policies, issues } = parsePolicyDocuments(yaml, 'test.yaml');
  expect(issues).toEqual([]);
  return policies.map((p) => p.policy);
}

const workload: Workload = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };
const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';
const TEST_NS = 'spiffe://cluster.local/ns/test/sa/client';
const DEV = 'spiffe://cluster.local/ns/dev/sa/app';

function req(over: Partial<PlainRequest> = {}): PlainRequest {
  return { principal: SLEEP, sourceIp: '10.0.0.9', port: 8080, method: 'GET', path: '/info', host: 'httpbin.foo', ...over };
}

function decide(yaml: string, r: PlainRequest, mesh: MeshConfig = defaultMeshConfig(), w: Workload = workload) {
  return compilePolicies(load(yaml), w, mesh).evaluate(buildRequestAttributes(r));
}

const HEADER = 'apiVersion: ztmesh.io/v1alpha1\nkind: AuthorizationPolicy\n';

// The Istio documentation's examples (authorization-policy reference and the security tasks),
// with only the apiVersion changed.
const ALLOW_NOTHING = `${HEADER}metadata: {name: allow-nothing, namespace: foo}\nspec: {}\n`;
const DENY_ALL = `${HEADER}metadata: {name: deny-all, namespace: foo}\nspec:\n  action: DENY\n  rules:\n  - {}\n`;
const ALLOW_ALL = `${HEADER}metadata: {name: allow-all, namespace: foo}\nspec:\n  rules:\n  - {}\n`;
const HTTPBIN = `${HEADER}metadata:
  name: httpbin
  namespace: foo
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["test"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
    - operation:
        methods: ["POST"]
        paths: ["/data"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`;
const DENY_DEV_POST = `${HEADER}metadata: {name: httpbin-deny, namespace: foo}
spec:
  action: DENY
  rules:
  - from:
    - source:
        notNamespaces: ["foo"]
    to:
    - operation:
        methods: ["POST"]
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
`;
const DENY_NO_JWT_EXCEPT_HEALTHZ = `${HEADER}metadata: {name: require-jwt, namespace: foo}
spec:
  action: DENY
  rules:
  - from:
    - source:
        notRequestPrincipals: ["*"]
    to:
    - operation:
        notPaths: ["/healthz"]
`;
const GROUP_CLAIM = `${HEADER}metadata: {name: require-group, namespace: foo}
spec:
  selector:
    matchLabels: {app: httpbin}
  rules:
  - from:
    - source:
        requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
    when:
    - key: request.auth.claims[groups]
      values: ["group1"]
`;
const IP_ALLOW = `${HEADER}metadata: {name: ingress-ips, namespace: foo}
spec:
  rules:
  - from:
    - source:
        ipBlocks: ["1.2.3.4", "5.6.7.0/24", "2001:db8::/32"]
`;
const IP_DENY = `${HEADER}metadata: {name: deny-ips, namespace: foo}
spec:
  action: DENY
  rules:
  - from:
    - source:
        notIpBlocks: ["10.0.0.0/8"]
`;

const JWT = { requestPrincipal: 'testing@secure.istio.io/testing@secure.istio.io', claims: { iss: 'https://accounts.google.com', groups: ['group1', 'group2'] } };

const cases: { name: string; yaml: string; req: PlainRequest; want: 'ALLOW' | 'DENY'; policy?: string | null; rule?: number | null; reason?: string }[] = [
  { name: 'allow-nothing denies everything', yaml: ALLOW_NOTHING, req: req(), want: 'DENY', policy: null, reason: REASONS.noAllowMatched },
  { name: 'allow-nothing denies unauthenticated TCP too', yaml: ALLOW_NOTHING, req: req({ principal: null, method: null, path: null, host: null }), want: 'DENY', policy: null },
  { name: 'deny-all denies even with allow-all', yaml: `${DENY_ALL}---\n${ALLOW_ALL}`, req: req(), want: 'DENY', policy: 'foo/deny-all', rule: 0, reason: REASONS.deniedByPolicy },
  { name: 'allow-all allows', yaml: ALLOW_ALL, req: req({ principal: null }), want: 'ALLOW', policy: 'foo/allow-all', rule: 0 },
  { name: 'httpbin: sleep GET /info with google JWT', yaml: HTTPBIN, req: req({ ...JWT, path: '/info/x' }), want: 'ALLOW', policy: 'foo/httpbin', rule: 0 },
  { name: 'httpbin: test namespace POST /data', yaml: HTTPBIN, req: req({ ...JWT, principal: TEST_NS, method: 'POST', path: '/data' }), want: 'ALLOW' },
  { name: 'httpbin: POST /info is not allowed', yaml: HTTPBIN, req: req({ ...JWT, method: 'POST' }), want: 'DENY', reason: REASONS.noAllowMatched },
  { name: 'httpbin: without the JWT claim', yaml: HTTPBIN, req: req(), want: 'DENY' },
  { name: 'httpbin: wrong issuer claim', yaml: HTTPBIN, req: req({ claims: { iss: 'https://evil.example' } }), want: 'DENY' },
  { name: 'httpbin: other principal', yaml: HTTPBIN, req: req({ ...JWT, principal: DEV }), want: 'DENY' },
  { name: 'httpbin: no mTLS identity', yaml: HTTPBIN, req: req({ ...JWT, principal: null }), want: 'DENY' },
  { name: 'deny POST from other namespaces', yaml: `${DENY_DEV_POST}---\n${ALLOW_ALL}`, req: req({ principal: DEV, method: 'POST', path: '/data' }), want: 'DENY', policy: 'foo/httpbin-deny', rule: 0 },
  { name: 'POST from foo is not denied', yaml: `${DENY_DEV_POST}---\n${ALLOW_ALL}`, req: req({ principal: 'spiffe://cluster.local/ns/foo/sa/x', method: 'POST' }), want: 'ALLOW' },
  { name: 'DENY on /admin paths', yaml: `${DENY_DEV_POST}---\n${ALLOW_ALL}`, req: req({ path: '/admin/users' }), want: 'DENY', rule: 1 },
  { name: 'DENY on exact /admin', yaml: `${DENY_DEV_POST}---\n${ALLOW_ALL}`, req: req({ path: '/admin' }), want: 'DENY', rule: 1 },
  { name: 'DENY paths leave /administrator alone', yaml: `${DENY_DEV_POST}---\n${ALLOW_ALL}`, req: req({ path: '/administrator' }), want: 'ALLOW' },
  { name: 'notPaths: no JWT outside /healthz is denied', yaml: `${DENY_NO_JWT_EXCEPT_HEALTHZ}---\n${ALLOW_ALL}`, req: req({ path: '/ip' }), want: 'DENY' },
  { name: 'notPaths: /healthz without JWT passes', yaml: `${DENY_NO_JWT_EXCEPT_HEALTHZ}---\n${ALLOW_ALL}`, req: req({ path: '/healthz' }), want: 'ALLOW' },
  { name: 'notPaths: with a JWT passes', yaml: `${DENY_NO_JWT_EXCEPT_HEALTHZ}---\n${ALLOW_ALL}`, req: req({ ...JWT, path: '/ip' }), want: 'ALLOW' },
  { name: 'when claims[groups] contains group1', yaml: GROUP_CLAIM, req: req(JWT), want: 'ALLOW', policy: 'foo/require-group' },
  { name: 'when claims[groups] without group1', yaml: GROUP_CLAIM, req: req({ ...JWT, claims: { groups: ['group2'] } }), want: 'DENY' },
  { name: 'when claims: selector does not select other workload', yaml: GROUP_CLAIM, req: req(JWT), want: 'DENY', reason: REASONS.defaultDeny },
  { name: 'ipBlocks: exact address', yaml: IP_ALLOW, req: req({ sourceIp: '1.2.3.4' }), want: 'ALLOW' },
  { name: 'ipBlocks: CIDR', yaml: IP_ALLOW, req: req({ sourceIp: '5.6.7.200' }), want: 'ALLOW' },
  { name: 'ipBlocks: IPv4-mapped IPv6 source', yaml: IP_ALLOW, req: req({ sourceIp: '::ffff:5.6.7.8' }), want: 'ALLOW' },
  { name: 'ipBlocks: IPv6 CIDR', yaml: IP_ALLOW, req: req({ sourceIp: '2001:db8::1' }), want: 'ALLOW' },
  { name: 'ipBlocks: outside', yaml: IP_ALLOW, req: req({ sourceIp: '5.6.8.1' }), want: 'DENY' },
  { name: 'notIpBlocks: outside 10/8 denied', yaml: `${IP_DENY}---\n${ALLOW_ALL}`, req: req({ sourceIp: '192.168.1.1' }), want: 'DENY', policy: 'foo/deny-ips' },
  { name: 'notIpBlocks: inside 10/8 passes', yaml: `${IP_DENY}---\n${ALLOW_ALL}`, req: req({ sourceIp: '10.1.2.3' }), want: 'ALLOW' },
  { name: 'no policies: zero-trust default DENY', yaml: '', req: req(), want: 'DENY', reason: REASONS.defaultDeny },
];

describe('compilePolicies: Istio documentation examples', () => {
  const other: Workload = { namespace: 'foo', labels: { app: 'other' } };
  for (const c of cases) {
    it(c.name, () => {
      const w = c.name.includes('other workload') ? other : workload;
      const d = decide(c.yaml, c.req, defaultMeshConfig(), w);
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
