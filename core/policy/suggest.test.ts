import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildRequestAttributes } from './build-request.ts';
import { compilePolicies } from './compile.ts';
import { defaultMeshConfig } from './mesh-config.ts';
import { authorizationPolicySchema } from './schema.ts';
import { suggestPolicies, suggestionYaml, type ObservedCall } from './suggest.ts';

const FRONTEND = 'spiffe://example.org/ns/shop/sa/frontend';
const ORDERS = 'spiffe://example.org/ns/shop/sa/orders';
const STRANGER = 'spiffe://example.org/ns/shop/sa/stranger';

const observed: ObservedCall[] = [
  { service: 'orders', method: 'GET', route: '/orders/{id}', callers: [FRONTEND] },
  { service: 'orders', method: 'POST', route: '/orders', callers: [FRONTEND] },
  { service: 'payments', method: 'POST', route: '/charges', callers: [ORDERS] },
  { service: 'payments', method: 'GET', route: '/charges/{id}/refunds/{id}', callers: [ORDERS, 'unknown'] },
];

function decide(service: string, principal: string, method: string, path: string): string {
  const { policies } = suggestPolicies(observed, { namespace: 'shop' });
  const authorizer = compilePolicies(policies, { namespace: 'shop', labels: { app: service } }, defaultMeshConfig());
  return authorizer.evaluate(buildRequestAttributes({ principal, sourceIp: '10.0.0.1', port: 8080, method, path, host: service })).decision;
}

describe('suggestPolicies', () => {
  it('allows every observed call', () => {
    expect(decide('orders', FRONTEND, 'GET', '/orders/17')).toBe('ALLOW');
    expect(decide('orders', FRONTEND, 'POST', '/orders')).toBe('ALLOW');
    expect(decide('payments', ORDERS, 'POST', '/charges')).toBe('ALLOW');
    expect(decide('payments', ORDERS, 'GET', '/charges/9/refunds/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBe('ALLOW');
  });

  it('denies a caller never seen, a method never used, and a route never called', () => {
    expect(decide('orders', STRANGER, 'GET', '/orders/17')).toBe('DENY');
    expect(decide('payments', FRONTEND, 'POST', '/charges')).toBe('DENY');
    expect(decide('orders', FRONTEND, 'DELETE', '/orders/17')).toBe('DENY');
    expect(decide('orders', FRONTEND, 'POST', '/orders/17')).toBe('DENY'); // POST was seen on /orders only
    expect(decide('orders', FRONTEND, 'GET', '/orders/17/items')).toBe('DENY');
  });

  it('skips callers without an identity and paths no policy can express, saying why', () => {
    const s = suggestPolicies([...observed, { service: 'orders', method: 'GET', route: '/a b', callers: [FRONTEND] }], { namespace: 'shop' });
    expect(s.skipped.map((k) => k.route)).toEqual(['/charges/{id}/refunds/{id}', '/a b']);
  });

  it('leaves out routes that never succeeded', () => {
    const s = suggestPolicies([{ service: 'orders', method: 'GET', route: '/.env', callers: [FRONTEND], statusClasses: { '4xx': 3 } }], { namespace: 'shop' });
    expect(s.policies).toEqual([]);
    expect(s.skipped[0]!.reason).toMatch(/never answered/);
  });

  it('renders YAML that parses back into valid policies', () => {
    const yaml = suggestionYaml(suggestPolicies(observed, { namespace: 'shop' }));
    expect(yaml).toContain('# skipped: payments GET');
    const docs = parseAllDocuments(yaml).map((d) => authorizationPolicySchema.parse(d.toJS()));
    expect(docs.map((d) => [d.metadata.name, d.spec.selector?.matchLabels])).toEqual([['orders-observed', { app: 'orders' }], ['payments-observed', { app: 'payments' }]]);
  });
});
