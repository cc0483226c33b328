import type { Scheduler } from './ca-identity-source.ts';

/** A manual clock and timer queue for lifecycle tests: `advance(ms)` moves time and fires what is due. */
export class FakeScheduler implements Scheduler {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  randomValue = 0.5;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.randomValue;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
  }
}
