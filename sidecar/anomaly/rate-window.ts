/**
 * A request-rate baseline at one time scale: requests are counted in fixed windows of `width` ms,
 * and each closed window's count updates an exponentially weighted mean and variance. Idle stretches
 * fold at most `maxIdleWindows` empty windows, so the baseline is the caller's rate while active
 * and a long pause does not make its next ordinary burst look anomalous.
 */
export class RateWindow {
  readonly width: number;
  #start: number;
  count = 0;
  mean = 0;
  variance = 0;
  /** Closed windows folded into the baseline. */
  windows = 0;
  /** Whether the open window already raised (one alert per window at most). */
  fired = false;

  constructor(width: number, now: number) {
    this.width = width;
    this.#start = now - (now % width);
  }

  /** Closes the windows that ended before `now`. */
  advance(now: number, alpha: number, maxIdleWindows: number): void {
    if (now < this.#start + this.width) return;
    this.#fold(this.count, alpha);
    const elapsed = Math.floor((now - this.#start) / this.width) - 1;
    const empties = elapsed < maxIdleWindows ? elapsed : maxIdleWindows;
    for (let i = 0; i < empties; i++) this.#fold(0, alpha);
    this.#start = now - (now % this.width);
    this.count = 0;
    this.fired = false;
  }

  #fold(x: number, alpha: number): void {
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
