import type { JsonType } from './json-fields.ts';

/**
 * An incremental scanner for the top-level shape of a JSON body, fed bytes as they stream past:
 * it keeps the top-level field names of an object body (of an array body: of its first element,
 * if that is an object) with the JSON type of each value, never a value. Everything else is only
 * skipped: strings by `indexOf`, nesting by a bounded bracket stack. Structure is checked (brackets
 * match, strings end, literals and separators where they belong at the top level, nothing but
 * whitespace after the root), so a malformed body is reported as such; inside nested values only
 * brackets, strings and the JSON token characters are checked. Nothing is copied but key bytes
 * (only a key split across two buffers, at most MAX_KEY_BYTES of it); nothing throws.
 */

/** Why a scan ended, once it has. */
export type ScanResult =
  | 'fields' // the root object (or first array element) was read completely
  | 'partial' // the byte budget ended the scan: the fields seen so far are real but maybe not all
  | 'malformed' // not JSON
  | 'truncated' // the body ended inside the JSON value
  | 'not-object'; // valid so far, but the root is not an object (nor an array starting with one)

const MAX_KEY_BYTES = 128;
const MAX_DEPTH = 256;

// States.
const ROOT = 0; // before the root value
const ARRAY_FIRST = 1; // after a root '[': its first element or ']'
const KEY_OR_END = 2; // after '{' of the field object: '"' or '}'
const KEY_START = 3; // after ',' in the field object: '"'
const KEY = 4; // inside a key
const COLON = 5;
const VALUE = 6; // a field's value starts
const STRING = 7; // skipping a string value (field value or nested)
const LITERAL = 8; // true / false / null of a field value
const NUMBER = 9; // a field's number value
const NESTED = 10; // inside a nested object/array (or the rest of a root array)
const AFTER_VALUE = 11; // after a field's value: ',' or '}'
const TRAILING = 12; // after the root value: whitespace only
const STOPPED = 13;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LITERALS = { t: Buffer.from('true'), f: Buffer.from('false'), n: Buffer.from('null') };

/** Outside strings, nested JSON consists of these bytes only (whitespace, punctuation, numbers, literals). */
const TOKEN = new Uint8Array(256);
for (const c of ' \t\r\n,:-+.0123456789eEtrufalsn') TOKEN[c.charCodeAt(0)] = 1;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class JsonTopLevelScanner {
  readonly fields = new Map<string, JsonType>();
  readonly #maxFields: number;
  #budget: number;
  #state = ROOT;
  #result: ScanResult | undefined = undefined;
  /** Depth of the field object: 1 for an object root, 2 for the first element of an array root. */
  #fieldDepth = 1;
  #depth = 0;
  /** Bracket stack of nested values: 1 = object, 2 = array. */
  readonly #stack = new Uint8Array(MAX_DEPTH);
  /** After a string or nested value ends: back to this state. */
  #back = AFTER_VALUE;
  #escape = false;
  /** Bytes of a key that began in an earlier buffer (allocated the first time a key spans two). */
  #carry: Buffer | undefined = undefined;
  #keyLen = 0;
  #keyEscaped = false;
  #keyTooLong = false;
  /** Every key byte so far is ASCII: decoded as latin1 (cheaper than utf8, same result). */
  #keyAscii = true;
  #literal: Buffer = LITERALS.t;
  #literalAt = 0;
  /** The last key read, until its value's type is known. */
  #pendingKey: string | undefined = undefined;
  /** The field object ended: every top-level field is known. */
  #fieldsDone = false;

  constructor(maxBytes: number, maxFields: number) {
    this.#budget = maxBytes;
    this.#maxFields = maxFields;
  }

  /** The outcome, once decided (undefined while more bytes are wanted). */
  get result(): ScanResult | undefined {
    return this.#result;
  }

  /** Scans buf[start, end); returns true while more bytes are wanted. */
  feed(buf: Buffer, start: number, end: number): boolean {
    if (this.#result !== undefined) return false;
    const stop = end - start >= this.#budget ? start + this.#budget : end;
    this.#budget -= stop - start;
    this.#scan(buf, start, stop);
    if (this.#result === undefined && this.#budget === 0) this.#result = this.#fieldsDone ? 'fields' : 'partial';
    return this.#result === undefined;
  }

  /** The body ended (complete per its framing): decides the outcome if not decided yet. */
  finish(): ScanResult {
    if (this.#result === undefined) this.#result = this.#state === TRAILING ? 'fields' : 'truncated';
    return this.#result;
  }

  #stopWith(result: ScanResult): void {
    this.#result = result;
    this.#state = STOPPED;
  }

  /**
   * Reads key bytes from i in a tight loop; at the closing quote the key is buf[from, quote) after
   * any carried bytes. Returns where scanning continues.
   */
  #readKey(buf: Buffer, i: number, end: number): number {
    const from = i;
    let escape = this.#escape;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (escape) {
        escape = false;
      } else if (c === QUOTE) {
        this.#escape = false;
        this.#endKey(buf, from, i);
        if (this.#result === undefined) this.#state = COLON;
        return i + 1;
      } else if (c === BACKSLASH) {
        escape = true;
        this.#keyEscaped = true;
      } else if (c < 0x20) {
        this.#stopWith('malformed');
        return i;
      } else if (c >= 0x80) {
        this.#keyAscii = false;
      }
    }
    // The buffer ends inside the key: keep its bytes so far (bounded).
    this.#escape = escape;
    const n = end - from;
    if (this.#keyLen + n > MAX_KEY_BYTES) {
      this.#keyTooLong = true;
    } else {
      this.#carry ??= Buffer.allocUnsafe(MAX_KEY_BYTES);
      buf.copy(this.#carry, this.#keyLen, from, end);
      this.#keyLen += n;
    }
    return end;
  }

  #endKey(buf: Buffer, from: number, to: number): void {
    if (this.#keyTooLong || this.#keyLen + to - from > MAX_KEY_BYTES || this.fields.size >= this.#maxFields) return;
    const encoding = this.#keyAscii ? 'latin1' : 'utf8';
    let raw: string;
    if (this.#keyLen === 0) {
      raw = buf.toString(encoding, from, to);
    } else {
      buf.copy(this.#carry!, this.#keyLen, from, to);
      raw = this.#carry!.toString(encoding, 0, this.#keyLen + to - from);
    }
    if (!this.#keyEscaped) {
      this.#pendingKey = raw;
      return;
    }
    try {
      this.#pendingKey = JSON.parse(`"${raw}"`) as string;
    } catch {
      this.#stopWith('malformed');
    }
  }

  #setType(type: JsonType): void {
    const key = this.#pendingKey;
    if (key === undefined) return;
    this.#pendingKey = undefined;
    if (this.fields.size < this.#maxFields || this.fields.has(key)) this.fields.set(key, type);
  }

  /** A field's value is an object or array: skipped as nested content. */
  #open(kind: number): void {
    this.#stack[this.#depth++] = kind;
    this.#state = NESTED;
  }

  #scan(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && this.#result === undefined) {
      const c = buf[i]!;
      switch (this.#state) {
        case ROOT:
          if (isWs(c)) break;
          if (c === 0x7b) {
            this.#depth = 1;
            this.#stack[0] = 1;
            this.#state = KEY_OR_END;
          } else if (c === 0x5b) {
            this.#depth = 1;
            this.#stack[0] = 2;
            this.#state = ARRAY_FIRST;
          } else if (c === QUOTE || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
            this.#stopWith('not-object');
          } else {
            this.#stopWith('malformed');
          }
          break;
        case ARRAY_FIRST:
          if (isWs(c)) break;
          if (c === 0x7b) {
            this.#fieldDepth = 2;
            this.#stack[1] = 1;
            this.#depth = 2;
            this.#state = KEY_OR_END;
          } else if (c === 0x5d) {
            this.#depth = 0;
            this.#state = TRAILING; // `[]`: valid, no fields to learn
            this.#fieldsDone = true;
          } else {
            this.#stopWith('not-object');
          }
          break;
        case KEY_OR_END:
          if (isWs(c)) break;
          if (c === QUOTE) this.#startKey();
          else if (c === 0x7d) this.#closeFieldObject();
          else this.#stopWith('malformed');
          break;
        case KEY_START:
          if (isWs(c)) break;
          if (c === QUOTE) this.#startKey();
          else this.#stopWith('malformed');
          break;
        case KEY:
          i = this.#readKey(buf, i, end);
          continue;
        case COLON:
          if (isWs(c)) break;
          if (c === 0x3a) this.#state = VALUE;
          else this.#stopWith('malformed');
          break;
        case VALUE:
          if (isWs(c)) break;
          if (c === QUOTE) {
            this.#setType('string');
            this.#back = AFTER_VALUE;
            this.#state = STRING;
          } else if (c === 0x7b || c === 0x5b) {
            this.#setType(c === 0x7b ? 'object' : 'array');
            this.#open(c === 0x7b ? 1 : 2);
          } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            this.#setType(c === 0x6e ? 'null' : 'boolean');
            this.#literal = c === 0x74 ? LITERALS.t : c === 0x66 ? LITERALS.f : LITERALS.n;
            this.#literalAt = 1;
            this.#state = LITERAL;
          } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            this.#setType('number');
            this.#state = NUMBER;
          } else {
            this.#stopWith('malformed');
          }
          break;
        case STRING:
          i = this.#skipString(buf, i, end);
          continue;
        case LITERAL:
          if (c !== this.#literal[this.#literalAt]) {
            this.#stopWith('malformed');
          } else if (++this.#literalAt === this.#literal.length) {
            this.#state = AFTER_VALUE;
          }
          break;
        case NUMBER:
          if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) break;
          this.#state = AFTER_VALUE;
          continue; // the delimiter is AFTER_VALUE's
        case NESTED:
          i = this.#skipNested(buf, i, end);
          continue;
        case AFTER_VALUE:
          if (isWs(c)) break;
          if (c === 0x2c) this.#state = KEY_START;
          else if (c === 0x7d) this.#closeFieldObject();
          else this.#stopWith('malformed');
          break;
        case TRAILING:
          if (!isWs(c)) this.#stopWith('malformed');
          break;
        default:
          return;
      }
      i++;
    }
  }

  #startKey(): void {
    this.#keyLen = 0;
    this.#keyEscaped = false;
    this.#keyTooLong = false;
    this.#keyAscii = true;
    this.#escape = false;
    this.#state = KEY;
  }


  /** The field object's '}': the fields are known; an array root is still checked to its end. */
  #closeFieldObject(): void {
    this.#fieldsDone = true;
    this.#depth--;
    if (this.#depth === 0) {
      this.#state = TRAILING;
      return;
    }
    // The rest of the root array: skipped as nested content (never below the root's depth).
    this.#fieldDepth = -1;
    this.#state = NESTED;
  }

  /**
   * Skips nested content from i (a tight loop on locals: this is where most bytes of a large body
   * go) until a string starts, the field's value ends, or the buffer does; returns where to go on.
   */
  #skipNested(buf: Buffer, i: number, end: number): number {
    const stack = this.#stack;
    const fieldDepth = this.#fieldDepth;
    let depth = this.#depth;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === QUOTE) {
        // A string inside nested content: skipped here, without leaving the loop.
        for (i++; i < end; i++) {
          const d = buf[i]!;
          if (d === QUOTE) break;
          if (d === BACKSLASH) i++;
        }
        if (i >= end) {
          // The buffer ends inside the string (maybe right after a backslash).
          this.#escape = i > end;
          this.#state = STRING;
          this.#back = NESTED;
          i = end;
          break;
        }
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        if (depth >= MAX_DEPTH) {
          this.#stopWith('partial');
          break;
        }
        stack[depth++] = c === 0x7b ? 1 : 2;
      } else if (c === 0x7d || c === 0x5d) {
        if (stack[depth - 1] !== (c === 0x7d ? 1 : 2)) {
          this.#stopWith('malformed');
          break;
        }
        depth--;
        if (depth === fieldDepth || depth === 0) {
          this.#state = depth === 0 ? TRAILING : AFTER_VALUE;
          i++;
          break;
        }
      } else if (TOKEN[c] !== 1) {
        this.#stopWith('malformed');
        break;
      }
    }
    this.#depth = depth;
    return i;
  }

  /** Skips string bytes from i; returns where scanning continues. */
  #skipString(buf: Buffer, i: number, end: number): number {
    if (this.#escape) {
      this.#escape = false;
      i++;
    }
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === QUOTE) {
        this.#state = this.#back;
        return i + 1;
      }
      if (c === BACKSLASH) i++;
    }
    // The buffer ends inside the string; past `end` by one: it ended right after a backslash.
    this.#escape = i > end;
    return end;
  }
}
