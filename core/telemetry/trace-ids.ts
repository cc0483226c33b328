import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const POOL_BYTES = 4096;
const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';

/**
 * Trace and span ids from a pool of CSPRNG bytes, refilled 4 KiB at a time and hex-encoded once
 * per refill, so an id costs one string slice rather than a syscall and an encoding. Ids are never
 * all zero (W3C). `presetTraceId` lets the sidecar make its sampling decision on a trace id before
 * the SDK creates a root span with it: the next `generateTraceId` returns the preset id, once.
 */
export class TraceIdSource implements IdGenerator {
  #hexPool = '';
  #offset = 0;
  #preset: string | undefined = undefined;

  #take(hexChars: number): string {
    if (this.#offset + hexChars > this.#hexPool.length) {
      this.#hexPool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
      this.#offset = 0;
    }
    const id = this.#hexPool.slice(this.#offset, this.#offset + hexChars);
    this.#offset += hexChars;
    return id;
  }

  newTraceId(): string {
    const id = this.#take(32);
    return id === ZERO_TRACE_ID ? this.newTraceId() : id;
  }

  newSpanId(): string {
    const id = this.#take(16);
    return id === ZERO_SPAN_ID ? this.newSpanId() : id;
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
