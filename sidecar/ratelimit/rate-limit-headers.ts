import type { RateLimitResult } from './rate-limiter.ts';

/**
 * The response headers of draft-ietf-httpapi-ratelimit-headers (-08 and later): `RateLimit-Policy`
 * announces the quota (`q`, bucket size) and window (`w`, seconds to refill it), `RateLimit` the
 * remaining quota (`r`) and seconds until it is fully restored (`t`); `Retry-After` (RFC 9110)
 * only on a 429. Policy names are structured-field strings.
 */
export function formatRateLimitHeaders(result: RateLimitResult): Record<string, string> {
  if (result.policy === 'disabled') return {};
  const name = `"${result.policy.replace(/[\\"]/g, '')}"`;
  const headers: Record<string, string> = {
    'ratelimit-policy': `${name};q=${result.limit};w=${result.windowSeconds}`,
    ratelimit: `${name};r=${result.remaining};t=${result.resetSeconds}`,
  };
  if (!result.allowed) headers['retry-after'] = String(result.retryAfterSeconds);
  return headers;
}
