/**
 * Capped exponential backoff with full jitter on the upper half: attempt n waits a random time in
 * [d/2, d] where d = min(maxMs, initialMs * 2^n). Many clients restarting at once (an operator
 * rollout, an API server restart) spread out instead of arriving together.
 */
export class JitteredBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: { initialMs: number; maxMs: number; random?: () => number }) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs (got ${options.initialMs}, ${options.maxMs})`);
    }
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to the cap. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
  }

  /** After a success: the next failure starts from `initialMs` again. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
