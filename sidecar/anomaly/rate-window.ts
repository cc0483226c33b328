/**
 * A request-rate baseline at one time scale: requests are counted in fixed windows of `width` ms,
 * and each closed window's count updates an exponentially weighted mean and variance (memory of
 * about `memory` ms whatever the width) and a decaying peak (half-life `peakHalfLife` ms), so that
 * a caller's habitual bursts — a page load's fan-out, a batch job — are part of its normal. Idle stretches
 * fold at most `maxIdleWindows` empty windows, so the baseline is the caller's rate while active
 * and a long pause does not make its next ordinary burst look anomalous.
 */
export class RateWindow {
  readonly width: number;
  readonly #alpha: number;
  readonly #peakDecay: number;
  #start: number;
  count = 0;
  mean = 0;
  variance = 0;
  /** Closed windows folded into the baseline. */
  windows = 0;
  /** The largest window count seen, decaying. */
  peak = 0;
  /** Whether the open window already raised (one alert per window at most). */
  fired = false;

  constructor(width: number, now: number, memory: number, peakHalfLife: number) {
    this.width = width;
    this.#alpha = Math.min(0.2, width / memory);
    this.#peakDecay = 0.5 ** (width / peakHalfLife);
    this.#start = now - (now % width);
  }

  /** Closes the windows that ended before `now`. */
  advance(now: number, maxIdleWindows: number): void {
    if (now < this.#start + this.width) return;
    this.#fold(this.count);
    const elapsed = Math.floor((now - this.#start) / this.width) - 1;
    const empties = elapsed < maxIdleWindows ? elapsed : maxIdleWindows;
    for (let i = 0; i < empties; i++) this.#fold(0);
    this.#start = now - (now % this.width);
    this.count = 0;
    this.fired = false;
  }

  #fold(x: number): void {
    const alpha = this.#alpha;
    this.peak = x > this.peak * this.#peakDecay ? x : this.peak * this.#peakDecay;
    if (this.windows === 0) {
      this.mean = x;
      this.variance = 0;
    } else {
      const diff = x - this.mean;
      const incr = alpha * diff;
      this.mean += incr;
      this.variance = (1 - alpha) * (this.variance + diff * incr);
    }
    this.windows++;
  }
}
