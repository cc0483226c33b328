import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';

/** Log lines allowed per window; past it refusals are only counted and summarized. */
const LINES_PER_WINDOW = 20;
const WINDOW_MS = 1000;

/**
 * Logs and counts the sidecar's refusals without letting an attacker flood the log: at most
 * LINES_PER_WINDOW lines per second, then one summary line with the number suppressed. Every
 * refusal is counted in the metric, logged or not.
 */
export class RefusalLog {
  readonly #logger: Logger;
  readonly #counter: Counter;
  readonly #direction: string;
  #windowStart = 0;
  #lines = 0;
  #suppressed = 0;

  constructor(logger: Logger, counter: Counter, direction: string) {
    this.#logger = logger;
    this.#counter = counter;
    this.#direction = direction;
  }

  record(code: string, message: string, fields: Record<string, unknown>): void {
    this.#counter.labels(this.#direction, code).inc();
    const now = Date.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      if (this.#suppressed > 0) {
        this.#logger.warn({ direction: this.#direction, suppressed: this.#suppressed }, 'refusal log lines suppressed (rate limit)');
      }
      this.#windowStart = now;
      this.#lines = 0;
      this.#suppressed = 0;
    }
    if (this.#lines < LINES_PER_WINDOW) {
      this.#lines++;
      this.#logger.info({ ...fields, direction: this.#direction, code }, message);
    } else {
      this.#suppressed++;
    }
  }
}
