import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { EndpointMetrics } from './endpoint-metrics.ts';
import { ServicePolicy } from './service-policy.ts';

const target = (extra: Partial<ServiceTarget>): ServiceTarget => ({
  name: 'orders', identity: 'spiffe://example.org/ns/shop/sa/orders' as SpiffeId, endpoints: [], protocol: 'http', ...extra,
});

describe('ServicePolicy', () => {
  it('takes the longest matching route timeout, else the service timeout, else none', () => {
    const p = new ServicePolicy(target({ timeoutMs: 500, routes: [{ pathPrefix: '/a', timeoutMs: 100, retryable: false }, { pathPrefix: '/a/b', timeoutMs: 50, retryable: false }] }), null, new EndpointMetrics(new Registry()), silentLogger());
    expect(p.timeoutFor('/a/b/c?x=1')).toBe(50);
    expect(p.timeoutFor('/a/x')).toBe(100);
    expect(p.timeoutFor('/z')).toBe(500);
    p.update(target({}));
    expect(p.timeoutFor('/a/b')).toBe(0);
  });

  it('retries idempotent methods and retryable routes only, up to the attempts, within the budget', () => {
    const registry = new Registry();
    const p = new ServicePolicy(
      target({ retry: { attempts: 1, budgetRatio: 0.5, minRetriesPerSecond: 0 }, routes: [{ pathPrefix: '/rpc/', retryable: true }] }),
      null, new EndpointMetrics(registry), silentLogger(),
    );
    for (let i = 0; i < 10; i++) p.deposit(1_000);
    expect(p.mayRetry('POST', '/orders', 1, 1_000)).toBe(false);
    expect(p.mayRetry('POST', '/rpc/Get', 1, 1_000)).toBe(true);
    expect(p.mayRetry('GET', '/orders', 2, 1_000)).toBe(false); // past attempts
    let allowed = 1;
    for (let i = 0; i < 10; i++) if (p.mayRetry('GET', '/orders', 1, 1_000)) allowed++;
    expect(allowed).toBe(5); // half of the 10 requests
    expect(registry.render()).toContain('ztmesh_retry_budget_exhausted_total{service="orders"} 6');
  });
});
