import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRequestAttributes } from './build-request.ts';
import { compilePolicies } from './compile.ts';
import { defaultMeshConfig } from './mesh-config.ts';
import { authorizationPolicySchema } from './schema.ts';

// The index must decide exactly as a plain scan of every rule in order would: same decision, same
// deciding policy and rule. Large random sets whose exact paths, principals and namespaces collide.
const principals = ['cluster.local/ns/a/sa/x', 'cluster.local/ns/a/sa/y', 'spiffe://cluster.local/ns/b/sa/x', 'cluster.local/ns/c/sa/z', 'cluster.local/ns/bbq/sa/x', 'other.td/workload'];
const principalPatterns = [...principals, 'cluster.local/ns/a/*', 'cluster.local/ns/b/*', 'cluster.local/ns/*', '*/sa/x', '*'];
const paths = ['/a', '/b', '/a/1', '/c'];
const pathPatterns = [...paths, '/a/*', '/a*', '/*', '*1', '/{*}', '*'];
const pick = <T,>(xs: readonly T[]) => fc.constantFrom(...xs);
const some = <T,>(xs: readonly T[]) => fc.uniqueArray(pick(xs), { minLength: 1, maxLength: 3 });

const source = fc.oneof(
  some(principalPatterns).map((p) => ({ principals: p })),
  some(principals).map((p) => ({ principals: p })),
  some(['a', 'b', 'c', 'a*', 'b*', 'bb*', '*']).map((n) => ({ namespaces: n })),
  some(['a', 'b']).map((n) => ({ notNamespaces: n })),
  some(['10.0.0.0/8']).map((b) => ({ ipBlocks: b })),
);
const operation = fc.oneof(
  some(paths).map((p) => ({ paths: p })),
  some(pathPatterns).map((p) => ({ paths: p })),
  fc.tuple(some(paths), some(['GET', 'POST'])).map(([p, m]) => ({ paths: p, methods: m })),
  some(['GET']).map((m) => ({ methods: m })),
  some(['/a']).map((p) => ({ notPaths: p })),
  some(['8080']).map((p) => ({ ports: p })),
);
const rule = fc.record(
  { from: fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }), to: fc.array(operation.map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 }) },
  { requiredKeys: [] },
);
const policies = fc.array(fc.tuple(pick(['ALLOW', 'ALLOW', 'DENY', 'AUDIT'] as const), fc.array(rule, { minLength: 0, maxLength: 40 })), { minLength: 1, maxLength: 8 });
const request = fc.record({
  principal: fc.option(pick(principals.map((p) => (p.startsWith('spiffe://') ? p : `spiffe://${p}`))), { nil: null }),
  path: fc.option(pick([...paths, '/a/2', '/ab', '/d', '/']), { nil: null }),
  method: pick(['GET', 'POST']),
  sourceIp: pick(['10.1.1.1', '192.168.0.1']),
  port: pick([80, 8080]),
});

describe('RuleIndex', () => {
  it('decides exactly as a linear scan, on large random policy sets', () => {
    fc.assert(
      fc.property(policies, fc.array(request, { minLength: 1, maxLength: 10 }), (sets, requests) => {
        const parsed = sets.map(([action, rules], i) =>
          authorizationPolicySchema.parse({ apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}`, namespace: 'foo' }, spec: { action, rules } }),
        );
        const authorizer = compilePolicies(parsed, { namespace: 'foo', labels: {} }, defaultMeshConfig());
        for (const r of requests) {
          const tcp = r.path === null;
          const attrs = buildRequestAttributes({ ...r, method: tcp ? null : r.method });
          const d = authorizer.evaluate(attrs);
          const traces = authorizer.explain(attrs).policies;
          const first = (action: string) =>
            traces.filter((p) => p.action === action).flatMap((p) => p.rules.filter((x) => x.matched).map((x) => ({ policy: p.policy, rule: x.index })))[0];
          const deny = first('DENY');
          const allow = first('ALLOW');
          const anyAllow = traces.some((p) => p.action === 'ALLOW');
          const want = deny ? { decision: 'DENY', ...deny } : allow ? { decision: 'ALLOW', ...allow } : { decision: 'DENY', policy: null, rule: null };
          expect({ decision: d.decision, policy: d.policy, rule: d.rule }).toEqual(anyAllow || deny ? want : { decision: 'DENY', policy: null, rule: null });
          expect(d.audit).toBe(first('AUDIT') !== undefined);
        }
      }),
      { numRuns: 200 },
    );
  });
});
