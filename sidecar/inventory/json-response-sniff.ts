import type { ResponseBodyTap } from '../telemetry/request-observer.ts';
import { JsonTopLevelScanner, type ScanResult } from './json-top-level-scanner.ts';

/** Where a finished sniff goes (the inventory's route entry, with the caller that received the body). */
export interface SniffSink {
  sniffed(scanner: JsonTopLevelScanner, result: ScanResult, caller: string): void;
}

// De-chunking states (the data plane has already checked the framing strictly: here only followed).
const C_SIZE = 0; // hex digits of a chunk size
const C_SIZE_LINE = 1; // extension bytes up to LF
const C_DATA = 2;
const C_DATA_CR = 3;
const C_DATA_LF = 4;
const C_DONE = 5; // last chunk: trailers are not body

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;
for (let i = 10; i < 16; i++) HEX['ABCDEF'.charCodeAt(i - 10)] = i;

/**
 * One sampled JSON response body on its way to the client: the bytes (de-chunked when the body is
 * chunked) go through an incremental top-level scanner, at most `maxBytes` of them; the result is
 * handed to the sink once decided (scanner done, budget spent, or body complete). Reads the
 * client's bytes in place, never keeps or changes them.
 */
export class JsonResponseSniff implements ResponseBodyTap {
  readonly #scanner: JsonTopLevelScanner;
  readonly #sink: SniffSink;
  readonly #caller: string;
  readonly #chunked: boolean;
  #chunkState = C_SIZE;
  #chunkLeft = 0;
  #done = false;

  constructor(sink: SniffSink, caller: string, chunked: boolean, maxBytes: number, maxFields: number) {
    this.#scanner = new JsonTopLevelScanner(maxBytes, maxFields);
    this.#sink = sink;
    this.#caller = caller;
    this.#chunked = chunked;
  }

  data(buf: Buffer, start: number, end: number): boolean {
    if (this.#done) return false;
    const more = this.#chunked ? this.#dechunk(buf, start, end) : this.#scanner.feed(buf, start, end);
    if (!more) this.#finish();
    return more;
  }

  end(): void {
    if (!this.#done) this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.#sink.sniffed(this.#scanner, this.#scanner.finish(), this.#caller);
  }

  /** Feeds the chunk data of buf[start, end) to the scanner; false once it wants no more. */
  #dechunk(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    while (i < end) {
      switch (this.#chunkState) {
        case C_SIZE: {
          const v = HEX[buf[i]!]!;
          if (v >= 0) this.#chunkLeft = this.#chunkLeft * 16 + v;
          else this.#chunkState = buf[i] === 0x0a ? this.#afterSizeLine() : C_SIZE_LINE;
          i++;
          break;
        }
        case C_SIZE_LINE:
          if (buf[i] === 0x0a) this.#chunkState = this.#afterSizeLine();
          i++;
          break;
        case C_DATA: {
          const n = Math.min(end - i, this.#chunkLeft);
          const more = this.#scanner.feed(buf, i, i + n);
          i += n;
          this.#chunkLeft -= n;
          if (!more) return false;
          if (this.#chunkLeft === 0) this.#chunkState = C_DATA_CR;
          break;
        }
        case C_DATA_CR:
          this.#chunkState = C_DATA_LF;
          i++;
          break;
        case C_DATA_LF:
          this.#chunkState = C_SIZE;
          i++;
          break;
        default:
          return true; // trailers: wait for end()
      }
    }
    return true;
  }

  #afterSizeLine(): number {
    if (this.#chunkLeft === 0) return C_DONE;
    return C_DATA;
  }
}
