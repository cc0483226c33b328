import { FIELD_VALUE, TCHAR } from './char-tables.ts';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** How the body of a response is delimited. */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

/** One upstream response head: status, framing and the header line ranges for rewriting. */
export class ResponseHead {
  readonly status: number;
  readonly http10: boolean;
  contentLength = -1;
  chunked = false;
  /** A Transfer-Encoding other than a final chunked: the body runs to connection close. */
  otherCoding = false;
  connClose = false;
  connKeepAlive = false;
  /** Offsets of the Content-Type value (-1: none), read only when an observer asks for it. */
  contentTypeStart = -1;
  contentTypeEnd = -1;
  /** A Content-Encoding other than identity applies to the body. */
  contentEncoded = false;
  /**
   * Offsets of the Connection / Keep-Alive / Proxy-Connection lines, dropped when forwarding, as
   * [start, end) pairs; null when there are none (no array per response in the common case).
   */
  drops: number[] | null = null;
  /** Offset of the end of the status line + headers, before the final CRLF. */
  readonly headersEnd: number;

  constructor(status: number, http10: boolean, headersEnd: number) {
    this.status = status;
    this.http10 = http10;
    this.headersEnd = headersEnd;
  }

  /** The body framing for a response to a request with `method`. */
  framing(method: string): ResponseFraming {
    const s = this.status;
    if (method === 'HEAD' || s < 200 || s === 204 || s === 304) return 'none';
    if (this.chunked) return 'chunked';
    if (this.otherCoding) return 'close';
    if (this.contentLength >= 0) return this.contentLength === 0 ? 'none' : 'length';
    return 'close';
  }

  /** The upstream keeps the connection open after this response. */
  reusable(): boolean {
    return this.http10 ? this.connKeepAlive && !this.connClose : !this.connClose;
  }
}

/**
 * Parses a response head in buf[start, end) (end just past CRLF CRLF). Upstream heads are checked
 * as strictly as requests (no response splitting, no ambiguous framing). Returns the head or the
 * reason it is malformed.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number): ResponseHead | string {
  let i = start;
  if (
    end - i < 14 || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f ||
    buf[i + 5] !== 0x31 || buf[i + 6] !== 0x2e || (buf[i + 7] !== 0x31 && buf[i + 7] !== 0x30) || buf[i + 8] !== SP
  ) {
    return 'status line must start with HTTP/1.x';
  }
  const http10 = buf[i + 7] === 0x30;
  const d0 = buf[i + 9]! - 0x30;
  const d1 = buf[i + 10]! - 0x30;
  const d2 = buf[i + 11]! - 0x30;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'invalid status code';
  const status = d0 * 100 + d1 * 10 + d2;
  i += 12;
  if (buf[i] === SP) {
    i++;
    while (FIELD_VALUE[buf[i]!] === 1) i++;
  }
  if (buf[i] !== CR || buf[i + 1] !== LF) return 'invalid status line';
  i += 2;
  const head = new ResponseHead(status, http10, end - 2);
  let teSeen = false;
  while (i < end - 2) {
    const lineStart = i;
    while (TCHAR[buf[i]!] === 1) i++;
    if (i === lineStart || buf[i] !== 0x3a) return 'invalid header name';
    const nameEnd = i;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (FIELD_VALUE[buf[i]!] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) return 'invalid header value';
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    i += 2;
    const nameLen = nameEnd - lineStart;
    // Only framing, connection and content headers matter; compare cheaply by length first.
    if (nameLen === 12 && nameIs(buf, lineStart, CONTENT_TYPE)) {
      head.contentTypeStart = valueStart;
      head.contentTypeEnd = valueEnd;
    } else if (nameLen === 14 && nameIs(buf, lineStart, CONTENT_LENGTH)) {
      // Decimal digits read in place (no strings for the header every response carries).
      const len = valueEnd - valueStart;
      if (len === 0 || len > 15) return 'invalid Content-Length';
      let n = 0;
      for (let k = valueStart; k < valueEnd; k++) {
        const d = buf[k]! - 0x30;
        if (d < 0 || d > 9) return 'invalid Content-Length';
        n = n * 10 + d;
      }
      if (head.contentLength !== -1 && head.contentLength !== n) return 'conflicting Content-Length values';
      head.contentLength = n;
    } else if (nameLen === 10 && nameIs(buf, lineStart, CONNECTION)) {
      connectionTokens(buf, valueStart, valueEnd, head);
      (head.drops ??= []).push(lineStart, i);
    } else if (nameLen === 14 || nameLen === 17 || nameLen === 10 || nameLen === 16) {
      const name = buf.toString('latin1', lineStart, nameEnd).toLowerCase();
      const value = buf.toString('latin1', valueStart, valueEnd).toLowerCase();
      if (name === 'transfer-encoding') {
        teSeen = true;
        const codings = value.split(',');
        const last = codings[codings.length - 1]!.trim();
        head.chunked = last === 'chunked';
        head.otherCoding = !head.chunked;
      } else if (name === 'content-encoding') {
        head.contentEncoded = value !== '' && value !== 'identity';
      } else if (name === 'keep-alive' || name === 'proxy-connection') {
        (head.drops ??= []).push(lineStart, i);
      }
    }
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 6.3); the connection is not reused after it.
  if (teSeen && head.contentLength !== -1) {
    head.contentLength = -1;
    head.connClose = true;
  }
  return head;
}

const CONTENT_TYPE = Buffer.from('content-type', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');

/**
 * buf[i, i + lower.length) equals `lower` ignoring ASCII case. `lower` holds only lowercase
 * letters and '-'; `| 0x20` folds case, and the only other byte it maps onto one of them is CR,
 * which header names and values never contain.
 */
function nameIs(buf: Buffer, i: number, lower: Buffer): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[i + k]! | 0x20) !== lower[k]) return false;
  return true;
}

/** Sets connClose / connKeepAlive from the comma-separated tokens in buf[start, end), without allocating. */
function connectionTokens(buf: Buffer, start: number, end: number, head: ResponseHead): void {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === 0x2c || buf[i] === SP || buf[i] === HTAB)) i++;
    const tokenStart = i;
    while (i < end && buf[i] !== 0x2c) i++;
    let tokenEnd = i;
    while (tokenEnd > tokenStart && (buf[tokenEnd - 1] === SP || buf[tokenEnd - 1] === HTAB)) tokenEnd--;
    const len = tokenEnd - tokenStart;
    if (len === 5 && nameIs(buf, tokenStart, CLOSE)) head.connClose = true;
    else if (len === 10 && nameIs(buf, tokenStart, KEEP_ALIVE)) head.connKeepAlive = true;
  }
}

const CONNECTION_CLOSE = Buffer.from('Connection: close\r\n\r\n', 'latin1');
const CONNECTION_UPGRADE = Buffer.from('Connection: upgrade\r\n\r\n', 'latin1');
const FINAL_CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The head to send downstream: the upstream's head without its connection-management lines, plus
 * `Connection: close` when this sidecar closes the client connection after the response, or
 * `Connection: upgrade` on a 101. With `bodyEnd` past the head's end, the body bytes up to it
 * follow in the same buffer (a small response leaves in one write).
 */
export function forwardResponseHead(buf: Buffer, start: number, head: ResponseHead, close: boolean, bodyEnd = head.headersEnd + 2): Buffer {
  const tail = head.status === 101 ? CONNECTION_UPGRADE : close ? CONNECTION_CLOSE : FINAL_CRLF;
  const bodyStart = head.headersEnd + 2;
  let size = head.headersEnd - start + tail.length + (bodyEnd - bodyStart);
  const drops = head.drops;
  if (drops !== null) for (let k = 0; k < drops.length; k += 2) size -= drops[k + 1]! - drops[k]!;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let from = start;
  if (drops !== null) {
    for (let k = 0; k < drops.length; k += 2) {
      o += buf.copy(out, o, from, drops[k]!);
      from = drops[k + 1]!;
    }
  }
  o += buf.copy(out, o, from, head.headersEnd);
  o += tail.copy(out, o);
  if (bodyEnd > bodyStart) buf.copy(out, o, bodyStart, bodyEnd);
  return out;
}
