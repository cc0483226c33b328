import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartGeneratedFiles } from '../operator/inject/chart-generated-files.ts';
import { authorizationPolicySchema } from '../core/policy/schema.ts';

/**
 * The CRDs' openAPIV3Schemas, checked the way the API server would use them, against the policies
 * users write: the documented examples are accepted (and are valid for ztmesh's own validator too),
 * and wrong types, enums and empty lists are refused. The OpenAPI v3.0 dialect is mapped to JSON
 * Schema for ajv: boolean exclusive bounds, int-or-string, and x-kubernetes-* annotations.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const n = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(n)) {
    // Kubernetes' own annotations, and formats ajv does not know (int64, date-time): not checked here.
    if (key.startsWith('x-kubernetes-') || key === 'format') continue;
    if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (value === true) out[key] = n[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
      continue;
    }
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonSchema(v)])) : toJsonSchema(value);
  }
  if (n['exclusiveMinimum'] === true) delete out['minimum'];
  if (n['exclusiveMaximum'] === true) delete out['maximum'];
  if (n['x-kubernetes-int-or-string'] === true) out['anyOf'] = [{ type: 'string' }, { type: 'integer' }];
  return out;
}

function validatorFor(file: string) {
  const crd = parse(chartGeneratedFiles()[file]!) as { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } };
  return new Ajv({ strict: false, allErrors: true }).compile(toJsonSchema(crd.spec.versions[0]!.schema.openAPIV3Schema) as object);
}

const validPolicies = [
  {
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders-from-frontend', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'orders' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }], to: [{ operation: { methods: ['GET', 'POST'], paths: ['/api/*'] } }] }] },
  },
  { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-nothing', namespace: 'shop' }, spec: {} },
  {
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-admin', namespace: 'shop' },
    spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/{**}'], ports: ['8080', 9090] } }], when: [{ key: 'request.auth.claims[groups]', notValues: ['admins'] }] }] },
  },
];

describe('the CRD schemas', () => {
  const policy = validatorFor('crds/authorizationpolicies.yaml');
  const mesh = validatorFor('crds/meshconfigs.yaml');

  it.each(validPolicies.map((p) => [p.metadata.name, p] as const))('accept the policy %s (which ztmesh itself accepts too)', (_name, doc) => {
    expect(authorizationPolicySchema.safeParse(doc).success).toBe(true);
    expect(policy(doc), JSON.stringify(policy.errors)).toBe(true);
  });

  it.each([
    ['an unsupported action', { action: 'CUSTOM' }],
    ['an empty principals list', { rules: [{ from: [{ source: { principals: [] } }] }] }],
    ['a boolean port', { rules: [{ to: [{ operation: { ports: [true] } }] }] }],
    ['rules that are not a list', { rules: { from: [] } }],
    ['a source without its wrapper', { rules: [{ from: [{ principals: ['x'] }] }] }],
  ])('refuse %s', (_name, spec) => {
    const doc = { apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'bad', namespace: 'shop' }, spec };
    expect(policy(doc)).toBe(false);
    expect(authorizationPolicySchema.safeParse(doc).success).toBe(false);
  });

  it('accept a MeshConfig and refuse a bad default action', () => {
    const doc = (spec: unknown) => ({ apiVersion: 'ztmesh.io/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec });
    expect(mesh(doc({ trustDomain: 'cluster.local', defaultAction: 'ALLOW', denyList: { spiffeIds: ['spiffe://cluster.local/ns/a/sa/b'] } })), JSON.stringify(mesh.errors)).toBe(true);
    expect(mesh(doc({ defaultAction: 'MAYBE' }))).toBe(false);
    expect(mesh(doc({ rateLimit: { perPrincipal: { requestsPerSecond: 0, burst: 1 } } }))).toBe(false);
  });
});
