/**
 * Observed time that clock jumps cannot distort: it follows a wall clock, but a backward step
 * counts as zero and a forward step larger than `maxStep` counts as `maxStep`. Baselines, learning
 * periods, cooldowns and expiries all run on it, so setting the system clock never fires an alert
 * or ends a learning period early.
 */
export class SteadyClock {
  readonly #wall: () => number;
  readonly #maxStep: number;
  #lastWall: number;
  #steady = 0;

  constructor(wall: () => number, maxStep: number) {
    this.#wall = wall;
    this.#maxStep = maxStep;
    this.#lastWall = wall();
  }

  /** Milliseconds of observed time since construction. */
  now(): number {
    const wall = this.#wall();
    const step = wall - this.#lastWall;
    this.#lastWall = wall;
    if (step > 0) this.#steady += step > this.#maxStep ? this.#maxStep : step;
    return this.#steady;
  }
}
