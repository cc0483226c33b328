import { describe, expect, it } from 'vitest';
import { rateLimitConfigSchema, type RateLimitConfig } from '../../core/policy/rate-limit-config.ts';
import { InboundRateLimit } from './inbound-rate-limit.ts';

const key = { principal: 'spiffe://example.org/ns/shop/sa/frontend', sourceIp: '10.0.0.1', method: 'GET', path: '/orders' };

describe('InboundRateLimit', () => {
  it('answers 429 with Retry-After and the RateLimit headers once the bucket is empty', () => {
    let now = 1_000_000;
    const config = rateLimitConfigSchema.parse({ perPrincipal: { requestsPerSecond: 1, burst: 2 } });
    const rl = new InboundRateLimit(() => config, () => now);
    expect(rl.check(key)).toBeUndefined();
    expect(rl.check(key)).toBeUndefined();
    const refused = rl.check(key)!;
    expect(refused).toMatchObject({ status: 429, code: 'ZTMESH_RATELIMIT_EXCEEDED' });
    expect(refused.headers).toEqual({ 'retry-after': '1', 'ratelimit-policy': '"principal";q=2;w=2', ratelimit: '"principal";r=0;t=2' });
    now += 1000;
    expect(rl.check(key)).toBeUndefined();
  });

  it('builds the limiter once per config object: a reload starts fresh buckets, disabled or absent means no limit', () => {
    let config: RateLimitConfig | undefined = rateLimitConfigSchema.parse({ perPrincipal: { requestsPerSecond: 1, burst: 1 } });
    const rl = new InboundRateLimit(() => config, () => 0);
    const first = rl.limiter();
    expect(rl.limiter()).toBe(first);
    expect(rl.check(key)).toBeUndefined();
    expect(rl.check(key)?.status).toBe(429);
    config = rateLimitConfigSchema.parse({ perPrincipal: { requestsPerSecond: 1, burst: 1 } });
    expect(rl.check(key)).toBeUndefined();
    config = rateLimitConfigSchema.parse({ enabled: false });
    for (let i = 0; i < 5; i++) expect(rl.check(key)).toBeUndefined();
    config = undefined;
    expect(rl.limiter()).toBeUndefined();
    expect(rl.check(key)).toBeUndefined();
  });
});
