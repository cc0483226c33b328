import { FIELD_VALUE, HEX_VALUE, TCHAR } from './char-tables.ts';

const CR = 0x0d;
const LF = 0x0a;

// States of the scanner.
const SIZE_FIRST = 0;
const SIZE = 1;
const EXT = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_NAME = 8;
const TRAILER_VALUE = 9;
const TRAILER_LF = 10;
const FINAL_LF = 11;
const DONE = 12;

/** `scan` results other than an offset. */
export const CHUNKED_NEED_MORE = -1;
export const CHUNKED_ERROR = -2;

/** Largest chunk size accepted: 2^48 - 1 (12 hex digits); more is refused as an overflow attempt. */
const MAX_SIZE_DIGITS = 12;
/** Longest chunk extension or trailer line accepted, in bytes. */
const MAX_LINE = 4096;

/**
 * Finds where a chunked body ends without copying it: the bytes are passed through unchanged, the
 * scanner only follows chunk sizes, CRLFs, extensions and trailers (RFC 9112 7.1), strictly: hex
 * sizes without prefix or whitespace, chunk-ext of token characters only, CRLF after every chunk.
 * One instance per connection direction, `reset()` between messages.
 */
export class ChunkedScanner {
  state = SIZE_FIRST;
  remaining = 0;
  digits = 0;
  lineBytes = 0;
  /** Sum of chunk sizes so far (the decoded body length). */
  bodyBytes = 0;
  /** Why the last scan failed. */
  error = '';

  reset(): void {
    this.state = SIZE_FIRST;
    this.remaining = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.bodyBytes = 0;
    this.error = '';
  }

  get done(): boolean {
    return this.state === DONE;
  }

  #fail(reason: string): number {
    this.error = reason;
    return CHUNKED_ERROR;
  }

  /** Scans buf[start, end); returns the offset just past the body's end, CHUNKED_NEED_MORE, or CHUNKED_ERROR. */
  scan(buf: Buffer, start: number, end: number): number {
    let i = start;
    let state = this.state;
    while (i < end) {
      const c = buf[i]!;
      switch (state) {
        case SIZE_FIRST:
        case SIZE: {
          const v = HEX_VALUE[c]!;
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.#fail('chunk size too large');
            this.remaining = this.remaining * 16 + v;
            state = SIZE;
            i++;
            break;
          }
          if (state === SIZE_FIRST) return this.#fail('chunk size must start with a hex digit');
          if (c === 0x3b) {
            state = EXT;
            this.lineBytes = 0;
          } else if (c === CR) state = SIZE_LF;
          else return this.#fail('invalid character after chunk size');
          i++;
          break;
        }
        case EXT:
          // chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), without whitespace: kept strict.
          if (c === CR) state = SIZE_LF;
          else if (TCHAR[c] !== 1 && c !== 0x3b && c !== 0x3d && c !== 0x22) return this.#fail('invalid chunk extension');
          else if (++this.lineBytes > MAX_LINE) return this.#fail('chunk extension too long');
          i++;
          break;
        case SIZE_LF:
          if (c !== LF) return this.#fail('chunk size line must end in CRLF');
          i++;
          this.digits = 0;
          if (this.remaining === 0) {
            state = TRAILER_START;
          } else {
            this.bodyBytes += this.remaining;
            state = DATA;
          }
          break;
        case DATA: {
          const n = end - i < this.remaining ? end - i : this.remaining;
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== CR) return this.#fail('chunk data not followed by CRLF');
          state = DATA_LF;
          i++;
          break;
        case DATA_LF:
          if (c !== LF) return this.#fail('chunk data not followed by CRLF');
          state = SIZE_FIRST;
          i++;
          break;
        case TRAILER_START:
          if (c === CR) {
            state = FINAL_LF;
          } else if (TCHAR[c] === 1) {
            state = TRAILER_NAME;
            this.lineBytes = 1;
          } else {
            return this.#fail('invalid trailer field');
          }
          i++;
          break;
        case TRAILER_NAME:
          if (c === 0x3a) state = TRAILER_VALUE;
          else if (TCHAR[c] !== 1) return this.#fail('invalid trailer field name');
          if (++this.lineBytes > MAX_LINE) return this.#fail('trailer line too long');
          i++;
          break;
        case TRAILER_VALUE:
          if (c === CR) state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) return this.#fail('invalid trailer field value');
          else if (++this.lineBytes > MAX_LINE) return this.#fail('trailer line too long');
          i++;
          break;
        case TRAILER_LF:
          if (c !== LF) return this.#fail('trailer line must end in CRLF');
          state = TRAILER_START;
          i++;
          break;
        case FINAL_LF:
          if (c !== LF) return this.#fail('chunked body must end in CRLF');
          this.state = DONE;
          return i + 1;
        default:
          return this.#fail('data after the end of a chunked body');
      }
    }
    this.state = state;
    return CHUNKED_NEED_MORE;
  }
}
