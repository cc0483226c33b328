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
  /** Offsets of the Connection / Keep-Alive / Proxy-Connection lines, dropped when forwarding. */
  readonly dropStart: number[] = [];
  readonly dropEnd: number[] = [];
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
    // Only framing and connection headers matter; compare cheaply by length first.
    if (nameLen === 14 || nameLen === 17 || nameLen === 10 || nameLen === 16) {
      const name = buf.toString('latin1', lineStart, nameEnd).toLowerCase();
      const value = buf.toString('latin1', valueStart, valueEnd).toLowerCase();
      if (name === 'content-length') {
        if (!/^[0-9]{1,15}$/.test(value)) return 'invalid Content-Length';
        const n = Number(value);
        if (head.contentLength !== -1 && head.contentLength !== n) return 'conflicting Content-Length values';
        head.contentLength = n;
      } else if (name === 'transfer-encoding') {
        teSeen = true;
        const codings = value.split(',');
        const last = codings[codings.length - 1]!.trim();
        head.chunked = last === 'chunked';
        head.otherCoding = !head.chunked;
      } else if (name === 'connection' || name === 'keep-alive' || name === 'proxy-connection') {
        if (name === 'connection') {
          for (const raw of value.split(',')) {
            const token = raw.trim();
            if (token === 'close') head.connClose = true;
            else if (token === 'keep-alive') head.connKeepAlive = true;
          }
        }
        head.dropStart.push(lineStart);
        head.dropEnd.push(i);
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

const CONNECTION_CLOSE = Buffer.from('Connection: close\r\n\r\n', 'latin1');
const CONNECTION_UPGRADE = Buffer.from('Connection: upgrade\r\n\r\n', 'latin1');
const FINAL_CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The head to send downstream: the upstream's head without its connection-management lines, plus
 * `Connection: close` when this sidecar closes the client connection after the response, or
 * `Connection: upgrade` on a 101.
 */
export function forwardResponseHead(buf: Buffer, start: number, head: ResponseHead, close: boolean): Buffer {
  const tail = head.status === 101 ? CONNECTION_UPGRADE : close ? CONNECTION_CLOSE : FINAL_CRLF;
  let size = head.headersEnd - start + tail.length;
  for (let k = 0; k < head.dropStart.length; k++) size -= head.dropEnd[k]! - head.dropStart[k]!;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let from = start;
  for (let k = 0; k < head.dropStart.length; k++) {
    o += buf.copy(out, o, from, head.dropStart[k]!);
    from = head.dropEnd[k]!;
  }
  o += buf.copy(out, o, from, head.headersEnd);
  tail.copy(out, o);
  return out;
}
