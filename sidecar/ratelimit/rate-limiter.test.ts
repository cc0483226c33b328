import { describe, expect, it } from 'vitest';
import { rateLimitConfigSchema } from '../../core/policy/rate-limit-config.ts';
import { formatRateLimitHeaders } from './rate-limit-headers.ts';
import { RateLimiter, type RateLimitKey } from './rate-limiter.ts';

class FakeClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const mesh = (principal: string, path = '/api/x', method = 'GET'): RateLimitKey => ({ principal, sourceIp: '10.0.0.1', method, path });
const outside = (ip: string): RateLimitKey => ({ principal: undefined, sourceIp: ip, method: 'GET', path: '/' });

function limiter(config: unknown = {}) {
  const clock = new FakeClock();
  return { clock, rl: new RateLimiter(rateLimitConfigSchema.parse(config), clock.now) };
}

describe('RateLimiter', () => {
  it('has safe defaults: enabled, generous per principal, tighter per source IP, bounded', () => {
    const config = rateLimitConfigSchema.parse({});
    expect(config).toMatchObject({ enabled: true, perPrincipal: { requestsPerSecond: 1000, burst: 2000 }, perSourceIp: { requestsPerSecond: 100, burst: 200 }, maxBuckets: 100_000 });
  });

  it('allows a burst, then refuses with Retry-After, then refills with time', () => {
    const { clock, rl } = limiter({ perSourceIp: { requestsPerSecond: 2, burst: 3 } });
    const results = [1, 2, 3, 4].map(() => rl.check(outside('203.0.113.9')));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[2]).toMatchObject({ remaining: 0, limit: 3, policy: 'source-ip', windowSeconds: 2 });
    expect(results[3]).toMatchObject({ allowed: false, retryAfterSeconds: 1, remaining: 0, resetSeconds: 2 });
    clock.advance(499);
    expect(rl.check(outside('203.0.113.9')).allowed).toBe(false);
    clock.advance(1);
    expect(rl.check(outside('203.0.113.9')).allowed).toBe(true);
    clock.advance(60_000);
    expect(rl.check(outside('203.0.113.9'))).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('keeps separate buckets per (principal, route) and per source IP', () => {
    const { rl } = limiter({
      perPrincipal: { requestsPerSecond: 1, burst: 1 },
      perSourceIp: { requestsPerSecond: 1, burst: 1 },
      routes: [{ name: 'orders', pathPrefix: '/orders', limit: { requestsPerSecond: 1, burst: 2 } }, { name: 'writes', pathPrefix: '/', methods: ['POST'], limit: { requestsPerSecond: 1, burst: 1 } }],
    });
    const a = 'spiffe://cluster.local/ns/a/sa/a';
    const b = 'spiffe://cluster.local/ns/b/sa/b';
    expect(rl.check(mesh(a)).allowed).toBe(true);
    expect(rl.check(mesh(a)).allowed).toBe(false);
    expect(rl.check(mesh(b)).allowed).toBe(true);
    expect(rl.check(mesh(a, '/orders/1'))).toMatchObject({ allowed: true, policy: 'orders', limit: 2 });
    expect(rl.check(mesh(a, '/orders')).allowed).toBe(true);
    expect(rl.check(mesh(a, '/orders/2')).allowed).toBe(false);
    expect(rl.check(mesh(a, '/ordersx')).policy).toBe('principal');
    expect(rl.check(mesh(a, '/x', 'POST')).policy).toBe('writes');
    expect(rl.check(outside('198.51.100.1')).allowed).toBe(true);
    expect(rl.check(outside('198.51.100.1')).allowed).toBe(false);
    expect(rl.check(outside('198.51.100.2')).allowed).toBe(true);
  });

  it('bounds memory: evicts the least recently used bucket and counts it', () => {
    const { rl } = limiter({ perSourceIp: { requestsPerSecond: 1, burst: 1 }, maxBuckets: 16 });
    for (let i = 0; i < 16; i++) rl.check(outside(`192.0.2.${i}`));
    expect(rl.size).toBe(16);
    rl.check(outside('192.0.2.0')); // touch: now the most recent, and exhausted
    for (let i = 100; i < 110; i++) rl.check(outside(`192.0.2.${i}`));
    expect(rl.size).toBe(16);
    expect(rl.evictions).toBe(10);
    // 192.0.2.0 survived eviction (recently used): still exhausted. 192.0.2.1 was evicted: fresh.
    expect(rl.check(outside('192.0.2.0')).allowed).toBe(false);
    expect(rl.check(outside('192.0.2.1')).allowed).toBe(true);
  });

  it('a clock going backwards never adds tokens', () => {
    const { clock, rl } = limiter({ perSourceIp: { requestsPerSecond: 1, burst: 1 } });
    rl.check(outside('192.0.2.1'));
    clock.advance(-10_000);
    expect(rl.check(outside('192.0.2.1')).allowed).toBe(false);
  });

  it('disabled: everything allowed, no headers', () => {
    const { rl } = limiter({ enabled: false });
    const r = rl.check(outside('192.0.2.1'));
    expect(r.allowed).toBe(true);
    expect(formatRateLimitHeaders(r)).toEqual({});
  });

  it('formats the IETF RateLimit headers and Retry-After', () => {
    const { rl } = limiter({ perSourceIp: { requestsPerSecond: 10, burst: 100 } });
    const first = rl.check(outside('192.0.2.1'));
    expect(formatRateLimitHeaders(first)).toEqual({ 'ratelimit-policy': '"source-ip";q=100;w=10', ratelimit: '"source-ip";r=99;t=1' });
    for (let i = 0; i < 99; i++) rl.check(outside('192.0.2.1'));
    const refused = rl.check(outside('192.0.2.1'));
    expect(formatRateLimitHeaders(refused)).toEqual({ 'ratelimit-policy': '"source-ip";q=100;w=10', ratelimit: '"source-ip";r=0;t=10', 'retry-after': '1' });
  });

  it('rejects unsafe configs', () => {
    expect(rateLimitConfigSchema.safeParse({ perSourceIp: { requestsPerSecond: 0, burst: 1 } }).success).toBe(false);
    expect(rateLimitConfigSchema.safeParse({ maxBuckets: 1 }).success).toBe(false);
    expect(rateLimitConfigSchema.safeParse({ routes: [{ name: 'bad name', pathPrefix: '/', limit: { requestsPerSecond: 1, burst: 1 } }] }).success).toBe(false);
    expect(rateLimitConfigSchema.safeParse({ burst: 5 }).success).toBe(false);
  });
});
