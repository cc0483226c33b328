/**
 * When to renew an SVID, and how long to wait after a failure. Pure functions of their inputs
 * (random in [0,1) passed in) so tests assert exact times.
 */

/** Shortest wait between a successful issuance and the next renewal (a guard against renewal loops). */
export const MIN_RENEWAL_DELAY_MS = 1000;

/**
 * Renew at half the remaining lifetime, ±10% of that (45%..55%). The lifetime counts from when the
 * SVID was received (`now`), not from notBefore: CAs back-date notBefore (ours by 30 s), and with
 * short TTLs counting from it would renew at once, in a loop.
 */
export function renewalAt(notBefore: number, notAfter: number, now: number, random: number): number {
  const start = Math.max(notBefore, now);
  const lifetime = Math.max(0, notAfter - start);
  const at = start + lifetime * 0.5 * (0.9 + 0.2 * random);
  return Math.max(now + Math.min(MIN_RENEWAL_DELAY_MS, lifetime), Math.round(at));
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 1000, maxMs: 30_000 });

/**
 * Capped exponential backoff with "equal jitter": attempt 0 waits 0.5..1 × 1s, attempt 1 0.5..1 × 2s,
 * and so on up to 0.5..1 × the cap, so retries from many sidecars spread out but never collapse to 0.
 */
export function backoffDelay(attempt: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + 0.5 * random));
}
