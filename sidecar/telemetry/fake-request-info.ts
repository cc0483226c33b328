import type { Decision } from '../../core/policy/decision.ts';
import type { RequestInfo } from './request-observer.ts';

/** Test helper: a RequestInfo with sensible defaults, headers looked up from a plain record. */
export function fakeRequestInfo(overrides: Partial<RequestInfo> & { readonly headers?: Readonly<Record<string, string>> } = {}): RequestInfo {
  const headers = overrides.headers ?? {};
  const { headers: _headers, ...rest } = overrides;
  return {
    direction: 'inbound',
    method: 'GET',
    path: '/api/items',
    host: 'items.shop.svc',
    sourcePrincipal: 'spiffe://mesh.test/ns/web/sa/frontend',
    destinationPrincipal: 'spiffe://mesh.test/ns/shop/sa/items',
    service: undefined,
    sourceIp: '10.1.2.3',
    destinationPort: 8080,
    traceparent: headers['traceparent'],
    tracestate: headers['tracestate'],
    b3: headers['b3'],
    decision: undefined,
    header: (name: string) => headers[name],
    ...rest,
  };
}

export function allow(policy: string | null = 'shop/allow-frontend', rule: number | null = 0, audit = false): Decision {
  return { decision: 'ALLOW', policy, rule, reason: 'allowed by ALLOW policy', audit, dryRun: [] };
}

export function deny(policy: string | null = 'shop/deny-admin', rule: number | null = 0): Decision {
  return { decision: 'DENY', policy, rule, reason: 'denied by DENY policy', audit: false, dryRun: [] };
}
