import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const POOL_BYTES = 4096;

/**
 * Trace and span ids from a pool of CSPRNG bytes refilled 4 KiB at a time, so a request costs one
 * hex slice rather than one syscall. Ids are never all zero (W3C). `presetTraceId` lets the
 * sidecar make its sampling decision on a trace id before the SDK creates a root span with it:
 * the next `generateTraceId` returns the preset id (synchronously, once).
 */
export class TraceIdSource implements IdGenerator {
  #pool: Buffer | undefined;
  #offset = POOL_BYTES;
  #preset: string | undefined;

  #hex(bytes: number): string {
    if (this.#pool === undefined) this.#pool = Buffer.allocUnsafe(POOL_BYTES);
    if (this.#offset + bytes > POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += bytes;
    const pool = this.#pool;
    // All-zero ids are invalid; with 64+ random bits this is a formality, but cheap to guarantee.
    let zero = true;
    for (let i = start; i < start + bytes; i++) {
      if (pool[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) pool[start + bytes - 1] = 1;
    return pool.toString('hex', start, start + bytes);
  }

  newTraceId(): string {
    return this.#hex(16);
  }

  newSpanId(): string {
    return this.#hex(8);
  }

  /** The id the next `generateTraceId` call returns. */
  presetTraceId(traceId: string): void {
    this.#preset = traceId;
  }

  generateTraceId(): string {
    const preset = this.#preset;
    if (preset !== undefined) {
      this.#preset = undefined;
      return preset;
    }
    return this.newTraceId();
  }

  generateSpanId(): string {
    return this.newSpanId();
  }
}
