/** Something with a deadline, swept by `CoarseTimers`. `deadline` 0 means none. */
export interface Expirable {
  deadline: number;
  onExpire(now: number): void;
}

/**
 * One interval for all idle, header, request and upstream timeouts of a server (as undici's
 * `lib/util/timers.js`): members set `deadline` to an absolute time and the sweep calls `onExpire`
 * once it has passed. Setting a deadline is a field write, so the hot path creates no timers.
 * `now` is a coarse clock refreshed by the sweep, cheap enough to read per chunk.
 */
export class CoarseTimers {
  readonly #members = new Set<Expirable>();
  readonly #interval: NodeJS.Timeout;
  now: number;

  constructor(resolutionMs: number) {
    this.now = Date.now();
    this.#interval = setInterval(() => this.#sweep(), resolutionMs);
    this.#interval.unref();
  }

  /** A resolution fine enough for the shortest timeout: a quarter of it, between 25 ms and 1 s. */
  static resolutionFor(shortestTimeoutMs: number): number {
    return Math.max(25, Math.min(1000, Math.floor(shortestTimeoutMs / 4)));
  }

  add(member: Expirable): void {
    this.#members.add(member);
  }

  delete(member: Expirable): void {
    this.#members.delete(member);
  }

  get size(): number {
    return this.#members.size;
  }

  close(): void {
    clearInterval(this.#interval);
    this.#members.clear();
  }

  #sweep(): void {
    const now = Date.now();
    this.now = now;
    for (const m of this.#members) {
      if (m.deadline !== 0 && m.deadline <= now) {
        m.deadline = 0;
        m.onExpire(now);
      }
    }
  }
}
