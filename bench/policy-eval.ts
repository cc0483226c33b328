// `node bench/policy-eval.ts [--iterations N]`: the per-request cost of policy evaluation, the hot
// path the sidecar runs on every request. Compiles 10 and 1,000 rules for one workload and measures
// ns/request for a request that matches a rule and one that matches none (the worst case: every
// candidate list is consulted), with the indexed evaluator and, as the reference in the same run,
// a linear scan of the same compiled rules. Also measures path normalization, which runs first.
import { parseArgs } from 'node:util';
import { normalizePath } from '../core/http/normalize-path.ts';
import { buildRequestAttributes } from '../core/policy/build-request.ts';
import { compilePolicies } from '../core/policy/compile.ts';
import { compileRule, matchRule, type CompiledRule } from '../core/policy/compiled-rule.ts';
import { defaultMeshConfig } from '../core/policy/mesh-config.ts';
import type { RequestAttributes } from '../core/policy/request.ts';
import { requestView } from '../core/policy/request-view.ts';
import { authorizationPolicySchema, type AuthorizationPolicy, type PolicyRule } from '../core/policy/schema.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { iterations: { type: 'string', default: '1000000' } } });
const ITERATIONS = Number(values.iterations);
const workload = { namespace: 'shop', labels: { app: 'orders' } };

/**
 * A realistic mix: 80% rules by exact principal + methods + path prefix (service-to-service), 15% by
 * exact paths (public endpoints), 4% by namespace-wide principals (`td/ns/<ns>/*`), 1% wildcard
 * rules (namespace prefixes + a header condition) that no index can narrow and every request
 * scans; two DENY policies in front, as platform teams write them.
 */
function ruleSet(count: number): AuthorizationPolicy[] {
  const rules: PolicyRule[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 20;
    if (kind < 16) {
      rules.push({ from: [{ source: { principals: [`cluster.local/ns/team${i}/sa/client${i}`] } }], to: [{ operation: { methods: ['GET', 'POST'], paths: [`/api/v${i}/*`] } }] });
    } else if (kind < 19) {
      rules.push({ to: [{ operation: { methods: ['GET'], paths: [`/public/${i}`, `/public/${i}/status`] } }] });
    } else if (i % 100 !== 99) {
      rules.push({ from: [{ source: { principals: [`cluster.local/ns/batch${i}/*`] } }], to: [{ operation: { methods: ['GET'] } }] });
    } else {
      rules.push({ from: [{ source: { namespaces: [`batch${i}-*`] } }], when: [{ key: 'request.headers[x-tenant]', values: [`t${i}`] }] });
    }
  }
  const doc = (name: string, spec: unknown) => authorizationPolicySchema.parse({ apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'shop' }, spec });
  return [
    doc('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }] }),
    doc('deny-outside', { action: 'DENY', rules: [{ from: [{ source: { notIpBlocks: ['10.0.0.0/8'] } }] }] }),
    doc('allow', { action: 'ALLOW', rules }),
  ];
}

function request(principal: string, path: string): RequestAttributes {
  return buildRequestAttributes({ principal, sourceIp: '10.1.2.3', port: 8080, method: 'GET', path, host: 'orders.shop', headers: { 'x-tenant': 'none' } });
}

/** The reference: Istio's precedence by scanning every compiled rule in order, no index. */
function linearScan(policies: AuthorizationPolicy[]): (r: RequestAttributes) => string {
  const compiled: CompiledRule[] = [];
  policies.forEach((p, policyIndex) =>
    (p.spec.rules ?? []).forEach((rule, ruleIndex) =>
      compiled.push(compileRule(rule, { policy: p.metadata.name, policyIndex, ruleIndex, ordinal: compiled.length, action: p.spec.action })),
    ),
  );
  const deny = compiled.filter((r) => r.action === 'DENY');
  const allow = compiled.filter((r) => r.action === 'ALLOW');
  return (r) => {
    const view = requestView(r);
    for (const rule of deny) if (matchRule(rule, view)) return 'DENY';
    for (const rule of allow) if (matchRule(rule, view)) return 'ALLOW';
    return 'DENY';
  };
}

/**
 * ns per call, as wall-clock time and as this process's CPU time: on a shared machine the CPU
 * figure is the one that does not include time spent waiting for a core.
 */
function measure(fn: () => unknown, iterations: number): { wall: number; cpu: number } {
  for (let i = 0; i < Math.min(iterations, 200_000); i++) fn(); // warm-up: let the JIT settle
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn() !== undefined) sink++;
  const wall = Number(process.hrtime.bigint() - start) / iterations;
  const cpu = process.cpuUsage(cpu0);
  if (sink !== iterations) throw new Error('evaluation returned nothing');
  return { wall, cpu: ((cpu.user + cpu.system) * 1000) / iterations };
}

const fmt = (m: { wall: number; cpu: number }) => `${m.cpu.toFixed(0)} (${m.wall.toFixed(0)})`;

const rows: string[][] = [];
for (const count of [10, 1000]) {
  const policies = ruleSet(count);
  const authorizer = compilePolicies(policies, workload, defaultMeshConfig());
  const scan = linearScan(policies);
  const target = Math.floor(count * 0.77) - (Math.floor(count * 0.77) % 20); // a principal rule deep in the list
  const hit = request(`spiffe://cluster.local/ns/team${target}/sa/client${target}`, `/api/v${target}/orders`);
  const miss = request('spiffe://cluster.local/ns/stranger/sa/nobody', '/api/unknown');
  for (const [name, r] of [['match', hit], ['no match', miss]] as const) {
    const d = authorizer.evaluate(r);
    if (d.decision !== scan(r)) throw new Error(`index and scan disagree on ${name}`);
    if ((name === 'match') !== (d.decision === 'ALLOW')) throw new Error(`unexpected decision for ${name}: ${d.reason}`);
    const indexed = measure(() => authorizer.evaluate(r), ITERATIONS);
    const linear = measure(() => scan(r), Math.max(10_000, Math.floor(ITERATIONS / (count / 10))));
    rows.push([String(count), name, d.decision, fmt(indexed), fmt(linear)]);
  }
}

const paths = ['/api/v1/orders', '/public/../admin/%61b//c?x=1'];
for (const p of paths) {
  const ns = measure(() => normalizePath(p), ITERATIONS);
  rows.push(['-', `normalizePath ${p}`, '-', fmt(ns), '-']);
}

const header = ['rules', 'request', 'decision', 'indexed: CPU ns/req (wall)', 'linear scan, reference: CPU ns/req (wall)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
process.stdout.write(`policy evaluation, ${ITERATIONS} iterations, node ${process.version}\n`);
for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
