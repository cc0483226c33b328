import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { normalizePath } from '../../core/http/normalize-path.ts';
import { toAuditRecord } from '../../core/policy/audit-record.ts';
import { buildRequestAttributes } from '../../core/policy/build-request.ts';
import { compilePolicies } from '../../core/policy/compile.ts';
import { parsePolicyDocuments } from '../../core/policy/load-policies.ts';
import { defaultMeshConfig } from '../../core/policy/mesh-config.ts';
import { REASONS } from '../../core/policy/reasons.ts';
import { istioExampleCases, workload as exampleWorkload, type IstioExampleCase } from '../../test/fixtures/istio-policy-examples.ts';
import { main } from '../main.ts';

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/ztmesh.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-policy-cli-'));
let fileNo = 0;

function file(text: string): string {
  const path = join(dir, `f${fileNo++}.yaml`);
  writeFileSync(path, text);
  return path;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => { f(String(chunk)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: new PassThrough(), env: {}, cwd: dir });
  return { code, out, err };
}

const HEADER = 'apiVersion: ztmesh.io/v1alpha1\nkind: AuthorizationPolicy\n';
const POLICIES = `${HEADER}metadata: {name: httpbin, namespace: foo}
spec:
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
    to:
    - operation: {methods: ["GET"], paths: ["/info*"]}
  - when:
    - key: request.auth.claims[groups]
      values: ["admins"]
---
${HEADER}metadata: {name: deny-admin, namespace: foo}
spec:
  action: DENY
  rules:
  - to:
    - operation: {paths: ["/admin", "/admin/*"]}
  - from:
    - source: {notIpBlocks: ["10.0.0.0/8", "127.0.0.1"]}
`;
const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';
const base = (path: string, extra: string[] = []) => ['policy', 'explain', '--policy', file(POLICIES), '--namespace', 'foo', '--labels', 'app=httpbin', '--principal', SLEEP, '--source-ip', '10.0.0.1', '--method', 'GET', '--path', path, ...extra, '--json'];

describe('ztmesh policy explain (in process)', () => {
  it.each([
    ['/info', [], { decision: 'ALLOW', policy: 'foo/httpbin', rule: 0, reason: REASONS.allowedByPolicy }],
    ['/public/../admin', [], { decision: 'DENY', policy: 'foo/deny-admin', rule: 0, reason: REASONS.deniedByPolicy }],
    ['/%61dmin', [], { decision: 'DENY', policy: 'foo/deny-admin', rule: 0 }],
    ['//admin', [], { decision: 'DENY', policy: 'foo/deny-admin', rule: 0 }],
    ['/./admin/x?y=1', [], { decision: 'DENY', policy: 'foo/deny-admin', rule: 0 }],
    ['/a%2Fb', [], { decision: 'DENY', policy: null, rule: null, reason: `${REASONS.pathRefused}: ZTMESH_HTTP_PATH_ENCODED_SLASH` }],
    ['/other', [], { decision: 'DENY', policy: null, rule: null, reason: REASONS.noAllowMatched }],
    ['/other', ['--claims', '{"groups":["admins"]}'], { decision: 'ALLOW', policy: 'foo/httpbin', rule: 1 }],
    ['/info', ['--source-ip', '192.168.0.1'], { decision: 'DENY', policy: 'foo/deny-admin', rule: 1 }],
  ] as const)('%s %j', async (path, extra, want) => {
    const r = await cli(base(path, [...extra]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.endsWith('\n')).toBe(true);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['decision', 'policy', 'rule', 'reason']);
    expect(json).toMatchObject(want);
  });

  it('prints a readable explanation without --json', async () => {
    const r = await cli(base('/info').slice(0, -1).concat(['--method', 'POST']));
    expect(r.code).toBe(0);
    expect(r.out).toContain('decision: DENY');
    expect(r.out).toContain('foo/httpbin (ALLOW)');
    expect(r.out).toContain('methods ["GET"] does not match "POST"');
  });

  it.each([
    [['policy', 'explain', '--namespace', 'foo']],
    [base('/x').map((a) => (a === SLEEP ? 'not-a-spiffe-id' : a))],
    [[...base('/x'), '--port', '99999']],
    [[...base('/x'), '--claims', '[1]']],
    [[...base('/x'), '--bogus']],
    [['policy', 'explain', '--policy', 'x.yaml', '--namespace', 'foo', '--labels', 'nolabel', '--principal', 'none', '--method', 'GET', '--path', '/']],
    [['policy', 'frobnicate']],
  ])('bad arguments exit 2: %j', async (argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain('ZTMESH_CLI_BAD_ARGS');
  });

  it('invalid policy files exit 1 and name the problem', async () => {
    const bad = file(`${HEADER}metadata: {name: x, namespace: foo}\nspec:\n  action: CUSTOM\n`);
    const r = await cli(['policy', 'explain', '--policy', bad, '--namespace', 'foo', '--labels', 'a=b', '--principal', 'none', '--method', 'GET', '--path', '/', '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}: document 1: spec.action:`);
    expect(r.out).toBe('');
  });
});

describe('ztmesh policy check', () => {
  it('prints OK for valid files and every error as FILE: document N: field.path: message', async () => {
    const good = file(POLICIES);
    expect(await cli(['policy', 'check', good])).toMatchObject({ code: 0, out: 'OK: 2 policies in 1 file\n' });
    const bad = file(`${POLICIES}---\n${HEADER}metadata: {name: x, namespace: foo}\nspec:\n  rules:\n  - from:\n    - source: {ipBlocks: ["300.0.0.1"], principals: ["a b"]}\n    unknown: 1\n`);
    const r = await cli(['policy', 'check', good, bad]);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toContain(`${bad}: document 3: spec.rules[0].unknown: unknown key 'spec.rules[0].unknown'`);
    expect(lines.some((l) => l.startsWith(`${bad}: document 3: spec.rules[0].from[0].source.ipBlocks[0]: `))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${bad}: document 3: spec.rules[0].from[0].source.principals[0]: `))).toBe(true);
    // The good file's policies reappear in the bad one: duplicates are named too.
    expect(lines.filter((l) => l.includes('is already defined'))).toHaveLength(2);
    expect((await cli(['policy', 'check'])).code).toBe(2);
  });
});

describe('ztmesh policy simulate', () => {
  it('lists the recorded decisions a candidate policy set would change', async () => {
    const current = parsePolicyDocuments(POLICIES, 'p.yaml').policies.map((p) => p.policy);
    const workload = { namespace: 'foo', labels: { app: 'httpbin' }, principal: 'spiffe://cluster.local/ns/foo/sa/httpbin' };
    const authorizer = compilePolicies(current, workload, defaultMeshConfig());
    const lines = ['/info', '/admin', '/other'].map((path) => {
      const attrs = buildRequestAttributes({ principal: SLEEP, sourceIp: '10.0.0.1', port: 8080, method: 'GET', path, host: 'httpbin' });
      return JSON.stringify({ level: 'info', ...toAuditRecord(attrs, workload, authorizer.evaluate(attrs)) });
    });
    const log = file([...lines, '{"level":"info","msg":"started"}', 'garbage', ''].join('\n'));
    // Candidate: /admin is no longer denied; /info no longer allowed.
    const candidate = file(`${HEADER}metadata: {name: only-admin, namespace: foo}\nspec:\n  rules:\n  - to:\n    - operation: {paths: ["/admin"]}\n`);
    const r = await cli(['policy', 'simulate', '--policy', candidate, '--log', log, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { records: number; skipped: { other: number; malformed: number }; changed: { line: number; before: string; after: string; policy: string | null }[] };
    expect(json.records).toBe(3);
    expect(json.skipped).toEqual({ other: 1, malformed: 1 });
    expect(json.changed.map((c) => [c.line, c.before, c.after])).toEqual([[1, 'ALLOW', 'DENY'], [2, 'DENY', 'ALLOW']]);
    const table = await cli(['policy', 'simulate', '--policy', candidate, '--log', log]);
    expect(table.out).toContain('3 audit records replayed, 2 decisions would change');
    expect(table.out).toContain('ALLOW -> DENY');
    const missing = await cli(['policy', 'simulate', '--policy', candidate, '--log', join(dir, 'nope.log')]);
    expect(missing.code).toBe(1);
  });
});

/** The `policy explain` command line for one documented example (HTTP requests only: the CLI has no TCP mode). */
function exampleArgv(c: IstioExampleCase): string[] {
  const w = c.workload ?? exampleWorkload;
  const r = c.req;
  return [
    'policy', 'explain', '--policy', file(c.yaml === '' ? '# no policies\n' : c.yaml), '--namespace', w.namespace,
    '--labels', Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(','), '--principal', r.principal ?? 'none',
    '--method', r.method!, '--path', r.path!, '--port', String(r.port),
    ...(r.sourceIp ? ['--source-ip', r.sourceIp] : []), ...(r.host ? ['--host', r.host] : []),
    ...Object.entries(r.headers ?? {}).flatMap(([k, v]) => ['--header', `${k}=${v}`]),
    ...(r.claims ? ['--claims', JSON.stringify(r.claims)] : []), ...(r.requestPrincipal ? ['--request-principal', r.requestPrincipal] : []),
    '--json',
  ];
}

function expectExample(c: IstioExampleCase, out: string): void {
  const json = JSON.parse(out) as { decision: string; policy: string | null; rule: number | null; reason: string };
  expect(json.decision).toBe(c.want);
  if (c.policy !== undefined) expect(json.policy).toBe(c.policy);
  if (c.rule !== undefined) expect(json.rule).toBe(c.rule);
  if (c.reason !== undefined) expect(json.reason).toBe(c.reason);
}

const httpExamples = istioExampleCases.filter((c) => c.req.method != null);

describe('the Istio documentation examples through ztmesh policy explain', () => {
  for (const c of httpExamples) {
    it(c.name, async () => {
      const r = await cli(exampleArgv(c));
      expect(r.code, r.err).toBe(0);
      expectExample(c, r.out);
    });
  }

  it('spawned as platform teams run it: same answers, exit 0; exit 2 on bad arguments', async () => {
    const chosen = ['deny-all denies even with allow-all', 'httpbin: sleep GET /info with google JWT'].map(
      (name) => httpExamples.find((c) => c.name === name)!,
    );
    const [bad, ...runs] = await Promise.all([
      exec(process.execPath, [BIN, 'policy', 'explain', '--path']).catch((e: { code: number }) => e),
      ...chosen.map((c) => exec(process.execPath, [BIN, ...exampleArgv(c)])),
    ]);
    expect((bad as { code: number }).code).toBe(2);
    runs.forEach((run, i) => expectExample(chosen[i]!, (run as { stdout: string }).stdout));
  });
});

// Property: for random policy sets and requests, `policy explain --json` prints exactly what the
// library decides, and the library's indexed evaluation equals a plain scan of the explain trace.
const pick = <T,>(xs: readonly T[]) => fc.constantFrom(...xs);
const opt = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const nonEmpty = <T,>(xs: readonly T[]) => fc.uniqueArray(pick(xs), { minLength: 1, maxLength: 3 });
// One or two fields per source/operation, so that random requests match often enough to matter.
function fields(singles: fc.Arbitrary<Record<string, string[]>>[]) {
  return fc.array(fc.oneof(...singles), { minLength: 1, maxLength: 2 }).map((parts) => Object.assign({}, ...parts) as Record<string, string[]>);
}
const field = (name: string, values: readonly string[]) => nonEmpty(values).map((v) => ({ [name]: v }));
const source = fields([
  field('principals', ['cluster.local/ns/a/sa/x', 'spiffe://cluster.local/ns/b/sa/y', 'cluster.local/ns/a/*', '*']),
  field('notPrincipals', ['cluster.local/ns/a/sa/x', '*/sa/y']),
  field('namespaces', ['a', 'b', 'c*']),
  field('ipBlocks', ['10.0.0.0/8', '192.168.1.1']),
  field('notIpBlocks', ['10.1.0.0/16']),
  field('requestPrincipals', ['iss/alice', 'iss/*']),
]);
const operation = fields([
  field('methods', ['GET', 'POST']),
  field('notMethods', ['DELETE']),
  field('paths', ['/x', '/y', '/x/*', '/x/{*}', '/z/{**}', '*.js']),
  field('paths', ['/x', '/y']),
  field('notPaths', ['/x/secret', '/y']),
  field('ports', ['80', '8080']),
  field('hosts', ['web', '*.example.com']),
]);
const condition = fc.oneof(
  fc.record({ key: fc.constant('request.headers[x-a]'), values: nonEmpty(['1', '2*']) }),
  fc.record({ key: fc.constant('request.auth.claims[g]'), notValues: nonEmpty(['bad']) }),
  fc.record({ key: fc.constant('source.ip'), values: nonEmpty(['10.0.0.0/8']) }),
);
const rule = fc.record({ from: opt(fc.array(fc.record({ source }), { minLength: 1, maxLength: 2 })), to: opt(fc.array(fc.record({ operation }), { minLength: 1, maxLength: 2 })), when: opt(fc.array(condition, { minLength: 1, maxLength: 2 })) }, { requiredKeys: [] });
const policy = fc.record({
  name: pick(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']),
  namespace: pick(['foo', 'foo', 'foo', 'ztmesh-system', 'bar']),
  dryRun: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  selector: opt(pick([{ app: 'web' }, { app: 'web' }, { app: 'db' }])),
  action: pick(['ALLOW', 'ALLOW', 'DENY', 'AUDIT']),
  rules: opt(fc.array(rule, { maxLength: 3 })),
});
const request = fc.record({
  principal: pick(['spiffe://cluster.local/ns/a/sa/x', 'spiffe://cluster.local/ns/b/sa/y', 'spiffe://cluster.local/ns/c1/sa/z', 'none']),
  sourceIp: pick(['10.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.0.1']),
  method: pick(['GET', 'POST', 'DELETE']),
  path: pick(['/x', '/y', '/x/a', '/x/secret', '/z/a/b', '/a.js', '/x/../y', '/%78', '//x', '/x%2Fa']),
  port: pick(['80', '8080']),
  host: pick(['web', 'a.example.com', 'other']),
  header: opt(pick(['1', '22', '3'])),
  claims: opt(pick(['{"g":"bad"}', '{"g":["ok"]}', '{"iss":"iss","sub":"alice"}'])),
});

describe('policy explain agrees with the library', () => {
  it('for random policy sets and requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(policy, { maxLength: 5, selector: (p) => `${p.namespace}/${p.name}` }), request, async (ps, rq) => {
        const docs = ps.map((p) => ({
          apiVersion: 'ztmesh.io/v1alpha1',
          kind: 'AuthorizationPolicy',
          metadata: { name: p.name, namespace: p.namespace, ...(p.dryRun ? { annotations: { 'ztmesh.io/dry-run': 'true' } } : {}) },
          spec: { action: p.action, ...(p.selector ? { selector: { matchLabels: p.selector } } : {}), ...(p.rules ? { rules: p.rules } : {}) },
        }));
        const text = docs.map((d) => stringify(d)).join('---\n');
        const argv = ['policy', 'explain', '--policy', file(text), '--namespace', 'foo', '--labels', 'app=web', '--principal', rq.principal,
          '--source-ip', rq.sourceIp, '--method', rq.method, '--path', rq.path, '--port', rq.port, '--host', rq.host, '--json',
          ...(rq.header ? ['--header', `x-a=${rq.header}`] : []), ...(rq.claims ? ['--claims', rq.claims] : [])];
        const r = await cli(argv);
        expect(r.code, r.err).toBe(0);
        const printed = JSON.parse(r.out);

        const loaded = parsePolicyDocuments(text, 'p.yaml');
        expect(loaded.issues).toEqual([]);
        const authorizer = compilePolicies(loaded.policies.map((p) => p.policy), { namespace: 'foo', labels: { app: 'web' } }, defaultMeshConfig());
        const n = normalizePath(rq.path);
        if (!n.ok) {
          expect(printed.decision).toBe('DENY');
          return;
        }
        const claims = rq.claims ? JSON.parse(rq.claims) : undefined;
        const attrs = buildRequestAttributes({
          principal: rq.principal === 'none' ? null : rq.principal, sourceIp: rq.sourceIp, port: Number(rq.port), method: rq.method, path: n.path, host: rq.host,
          headers: rq.header ? { 'x-a': rq.header } : {}, claims, requestPrincipal: claims?.iss ? `${claims.iss}/${claims.sub}` : undefined,
        });
        const d = authorizer.evaluate(attrs);
        expect(printed).toEqual({ decision: d.decision, policy: d.policy, rule: d.rule, reason: d.reason });

        // Reference: a linear scan over the explain trace, Istio's precedence, no index.
        const traces = authorizer.explain(attrs).policies.filter((p) => p.notSelected === undefined && !p.dryRun);
        const firstOf = (action: string) => traces.filter((p) => p.action === action).flatMap((p) => p.rules.filter((x) => x.matched).map((x) => ({ policy: p.policy, rule: x.index })))[0];
        const deny = firstOf('DENY');
        const allow = firstOf('ALLOW');
        const anyAllow = traces.some((p) => p.action === 'ALLOW');
        const want = deny ? { decision: 'DENY', ...deny } : anyAllow ? (allow ? { decision: 'ALLOW', ...allow } : { decision: 'DENY', policy: null, rule: null }) : { decision: 'DENY', policy: null, rule: null };
        expect({ decision: d.decision, policy: d.policy, rule: d.rule }).toEqual(want);
        expect(d.audit).toBe(traces.some((p) => p.action === 'AUDIT' && p.rules.some((x) => x.matched)));
      }),
      { numRuns: 150 },
    );
  });
});
