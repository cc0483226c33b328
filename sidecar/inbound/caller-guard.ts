/**
 * Temporary measures against one caller (the anomaly detector's optional response): quarantine
 * (deny everything it sends) or throttle (a small per-caller token bucket). The inbound gate asks
 * after authorization, so only requests that policy allows are affected, and a denied request
 * costs nothing here.
 */
export interface CallerMeasures {
  isQuarantined(principal: string | undefined): boolean;
  /** Requests per second a throttled caller keeps; undefined when it is not throttled. */
  throttleFor(principal: string | undefined): number | undefined;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Token buckets for throttled callers only; bounded (throttled callers are few, and the map is swept). */
export class CallerThrottle {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #max: number;

  constructor(now: () => number = Date.now, max = 10_000) {
    this.#now = now;
    this.#max = max;
  }

  /** Takes one token at `rps` (burst = max(1, rps)); false when the caller must wait. */
  take(principal: string, rps: number): boolean {
    const now = this.#now();
    const burst = Math.max(1, rps);
    let bucket = this.#buckets.get(principal);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#max) this.#buckets.clear();
      bucket = { tokens: burst, last: now };
      this.#buckets.set(principal, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) / 1000) * rps);
      bucket.last = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
