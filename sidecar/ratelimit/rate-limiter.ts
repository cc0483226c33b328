import type { BucketConfig, RateLimitConfig, RouteLimit } from '../../core/policy/rate-limit-config.ts';

/**
 * Local token-bucket rate limits: one bucket per (source principal, destination route) for mesh
 * traffic, one per source IP for traffic without a mesh identity. A check is O(1) (a Map lookup,
 * a refill computed from the elapsed time, a move to the recent end); memory is bounded by
 * `maxBuckets`, beyond which the least recently used bucket is evicted and counted. The clock is
 * injected, in milliseconds, so tests drive time exactly.
 */

export interface RateLimitKey {
  /** Verified SPIFFE ID of the peer, or undefined for traffic from outside the mesh. */
  readonly principal: string | undefined;
  readonly sourceIp: string;
  readonly method: string | undefined;
  /** Normalized request path (no query); undefined for TCP. */
  readonly path: string | undefined;
}

export interface RateLimitResult {
  readonly allowed: boolean;
  /** Seconds until one request would be allowed (0 when allowed): the Retry-After value. */
  readonly retryAfterSeconds: number;
  /** The bucket size: the quota of the RateLimit-Policy. */
  readonly limit: number;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Name of the policy that applied: a route name, "principal" (default mesh route) or "source-ip". */
  readonly policy: string;
  /** Seconds a full bucket takes to refill: the window of the RateLimit-Policy. */
  readonly windowSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const UNLIMITED: RateLimitResult = Object.freeze({ allowed: true, retryAfterSeconds: 0, limit: 0, remaining: 0, resetSeconds: 0, policy: 'disabled', windowSeconds: 0 });

export class RateLimiter {
  readonly #config: RateLimitConfig;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #evictions = 0;

  constructor(config: RateLimitConfig, clock: () => number = Date.now) {
    this.#config = config;
    this.#clock = clock;
  }

  /** Buckets held now (at most config.maxBuckets). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Buckets evicted so far to stay under maxBuckets (export as a counter). */
  get evictions(): number {
    return this.#evictions;
  }

  /** Takes one token for this request, if there is one. */
  check(key: RateLimitKey): RateLimitResult {
    if (!this.#config.enabled) return UNLIMITED;
    let name: string;
    let limit: BucketConfig;
    let id: string;
    if (key.principal !== undefined) {
      const route = this.route(key.method, key.path);
      name = route === undefined ? 'principal' : route.name;
      limit = route === undefined ? this.#config.perPrincipal : route.limit;
      id = `p\u0000${key.principal}\u0000${name}`;
    } else {
      name = 'source-ip';
      limit = this.#config.perSourceIp;
      id = `i\u0000${key.sourceIp}`;
    }
    const now = this.#clock();
    let bucket = this.#buckets.get(id);
    if (bucket === undefined) {
      bucket = { tokens: limit.burst, updatedAt: now };
      if (this.#buckets.size >= this.#config.maxBuckets) this.#evictOldest();
    } else {
      // Re-insert to keep the Map in least-recently-used order.
      this.#buckets.delete(id);
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsed * limit.requestsPerSecond) / 1000);
      bucket.updatedAt = now;
    }
    this.#buckets.set(id, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const rate = limit.requestsPerSecond;
    return {
      allowed,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
      limit: limit.burst,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((limit.burst - bucket.tokens) / rate),
      policy: name,
      windowSeconds: Math.max(1, Math.ceil(limit.burst / rate)),
    };
  }

  /** The first configured route covering this request, or undefined (the default mesh route). */
  route(method: string | undefined, path: string | undefined): RouteLimit | undefined {
    if (path === undefined) return undefined;
    for (const route of this.#config.routes) {
      if (route.methods !== undefined && (method === undefined || !route.methods.includes(method))) continue;
      const p = route.pathPrefix;
      if (path === p || (path.startsWith(p) && (p.endsWith('/') || path.charCodeAt(p.length) === 0x2f))) return route;
    }
    return undefined;
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) {
      this.#buckets.delete(oldest.value);
      this.#evictions++;
    }
  }
}
