/** Half of the budget's window: counts roll over every `BUCKET_MS` and live for two buckets. */
const BUCKET_MS = 5_000;
const WINDOW_SECONDS = (2 * BUCKET_MS) / 1000;

/**
 * A retry budget as Linkerd's: over the last ~10 s, retries may add at most `ratio` of the
 * requests, plus `minPerSecond` retries per second whatever the traffic, so that retries cannot
 * multiply the load on a failing service. Counting is two integer buckets, no allocation.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  #bucketStart = 0;
  #requests = 0;
  #retries = 0;
  #prevRequests = 0;
  #prevRetries = 0;

  constructor(ratio: number, minPerSecond: number) {
    this.#ratio = ratio;
    this.#floor = minPerSecond * WINDOW_SECONDS;
  }

  /** A request (not a retry) started at `now`. */
  deposit(now: number): void {
    this.#roll(now);
    this.#requests++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  withdraw(now: number): boolean {
    this.#roll(now);
    const retries = this.#retries + this.#prevRetries;
    if (retries >= this.#floor + this.#ratio * (this.#requests + this.#prevRequests)) return false;
    this.#retries++;
    return true;
  }

  #roll(now: number): void {
    const age = now - this.#bucketStart;
    if (age < BUCKET_MS) return;
    const keep = age < 2 * BUCKET_MS;
    this.#prevRequests = keep ? this.#requests : 0;
    this.#prevRetries = keep ? this.#retries : 0;
    this.#requests = 0;
    this.#retries = 0;
    this.#bucketStart = now;
  }
}
