import type { RateLimitConfig } from '../../core/policy/rate-limit-config.ts';
import { RateLimiter, type RateLimitKey } from '../ratelimit/rate-limiter.ts';
import { formatRateLimitHeaders } from '../ratelimit/rate-limit-headers.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';

/**
 * The inbound rate-limit layer: one synchronous O(1) token-bucket check per request, against the
 * limiter built from the current mesh config's `rateLimit` (rebuilt, with fresh buckets, only when
 * a reload brings a different config object). A refused request gets 429 with Retry-After and the
 * IETF RateLimit-Policy / RateLimit headers.
 */
export class InboundRateLimit {
  readonly #config: () => RateLimitConfig | undefined;
  readonly #clock: () => number;
  #current: RateLimitConfig | undefined = undefined;
  #limiter: RateLimiter | undefined = undefined;

  constructor(config: () => RateLimitConfig | undefined, clock: () => number = Date.now) {
    this.#config = config;
    this.#clock = clock;
  }

  /** The limiter of the current config (undefined: no config loaded, or limits disabled). */
  limiter(): RateLimiter | undefined {
    const config = this.#config();
    if (config !== this.#current) {
      this.#current = config;
      this.#limiter = config === undefined || !config.enabled ? undefined : new RateLimiter(config, this.#clock);
    }
    return this.#limiter;
  }

  /** Takes a token for `key`: undefined when allowed, else the 429 refusal. */
  check(key: RateLimitKey): Refusal | undefined {
    const limiter = this.limiter();
    if (limiter === undefined) return undefined;
    const result = limiter.check(key);
    if (result.allowed) return undefined;
    return refusal(429, 'ZTMESH_RATELIMIT_EXCEEDED', `rate limit "${result.policy}" exceeded; retry after ${result.retryAfterSeconds}s`, formatRateLimitHeaders(result));
  }
}
