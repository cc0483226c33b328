import { FIELD_VALUE, HOST_CHAR, TARGET_CHAR, TCHAR } from './char-tables.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/**
 * One parsed HTTP/1.1 request head: what routing, policy and framing need, plus the header lines
 * (as ranges into the receive buffer) so the forwarded head can copy them without re-encoding.
 * Built by `parseRequestHead`, which refuses anything not strictly RFC 9112.
 */
export class RequestHead {
  readonly buf: Buffer;
  readonly method: string;
  readonly target: string;
  readonly targetForm: TargetForm;
  readonly http10: boolean;
  /** Lowercase names and latin1 values of all header lines, in order. */
  readonly names: string[] = [];
  readonly values: string[] = [];
  /** Where each header line starts in `buf`; it ends (CRLF included) where the next begins, see `lineEnd`. */
  readonly lineStart: number[] = [];
  /** Lines the forwarded head leaves out (hop-by-hop, identity, tracing, request id). */
  readonly drop: boolean[] = [];
  host: string | undefined = undefined;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  connClose = false;
  connKeepAlive = false;
  connUpgrade = false;
  upgrade: string | undefined = undefined;
  expectContinue = false;
  requestId: string | undefined = undefined;
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  b3: string | undefined = undefined;
  /** Offset in `buf` just past the head's final CRLF CRLF. */
  readonly end: number;

  constructor(buf: Buffer, method: string, target: string, targetForm: TargetForm, http10: boolean, end: number) {
    this.buf = buf;
    this.method = method;
    this.target = target;
    this.targetForm = targetForm;
    this.http10 = http10;
    this.end = end;
  }

  /** Offset just past header line `k`'s CRLF (lines are contiguous: no array of their own). */
  lineEnd(k: number): number {
    return k + 1 < this.lineStart.length ? this.lineStart[k + 1]! : this.end - 2;
  }

  /** All values of a header (lowercase name), joined with ", ". */
  header(name: string): string | undefined {
    let out: string | undefined;
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === name) out = out === undefined ? this.values[i] : `${out}, ${this.values[i]}`;
    }
    return out;
  }

  /** True when the request has a body to frame (Content-Length > 0 or chunked). */
  hasBody(): boolean {
    return this.chunked || this.contentLength > 0;
  }

  /** The connection stays open after this exchange, as far as the client is concerned. */
  keepAlive(): boolean {
    return this.http10 ? this.connKeepAlive && !this.connClose : !this.connClose;
  }

  /** An Upgrade (e.g. WebSocket) request: Connection: upgrade plus an Upgrade header. */
  isUpgrade(): boolean {
    return this.connUpgrade && this.upgrade !== undefined;
  }
}

function excerpt(buf: Buffer, start: number, end: number): string {
  const stop = Math.min(end, start + 60);
  return JSON.stringify(buf.toString('latin1', start, stop)) + (end > stop ? '...' : '');
}

const REQUEST_ID = /^[A-Za-z0-9._:+=\/-]{1,128}$/;

/**
 * Parses and validates a request head occupying buf[start, end) (end is just past CRLF CRLF; the
 * caller already checked there is no bare LF). Returns the head, or the refusal to answer with.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, maxHeaderCount: number): RequestHead | Refusal {
  // Request line: method SP target SP HTTP/1.x CRLF
  let i = start;
  while (TCHAR[buf[i]!] === 1) i++;
  if (i === start || buf[i] !== SP) return refusal(400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE', `malformed request method in ${excerpt(buf, start, end)}`);
  const method = buf.toString('latin1', start, i);
  const targetStart = ++i;
  while (TARGET_CHAR[buf[i]!] === 1) i++;
  if (i === targetStart || buf[i] !== SP) return refusal(400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE', `malformed request target in ${excerpt(buf, start, end)}`);
  const target = buf.toString('latin1', targetStart, i);
  i++;
  // "HTTP/1.1" CR LF
  if (
    end - i < 10 || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f ||
    buf[i + 5] !== 0x31 || buf[i + 6] !== 0x2e || (buf[i + 7] !== 0x31 && buf[i + 7] !== 0x30) || buf[i + 8] !== CR || buf[i + 9] !== LF
  ) {
    return refusal(400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE', `request line must end in HTTP/1.1 or HTTP/1.0: ${excerpt(buf, start, end)}`);
  }
  const http10 = buf[i + 7] === 0x30;
  i += 10;
  let form: TargetForm;
  const t0 = target.charCodeAt(0);
  if (t0 === 0x2f) form = 'origin';
  else if (target === '*') form = 'asterisk';
  else if (method === 'CONNECT') form = 'authority';
  else if (/^http:\/\//i.test(target)) form = 'absolute';
  else return refusal(400, 'ZTMESH_SIDECAR_BAD_TARGET', `unsupported request target ${JSON.stringify(target.slice(0, 60))}`);
  const head = new RequestHead(buf, method, target, form, http10, end);

  // Header lines until the empty line.
  let count = 0;
  let hosts = 0;
  let connectionTokens: string[] | undefined;
  while (i < end - 2) {
    const lineStart = i;
    const first = buf[i]!;
    if (first === SP || first === HTAB) return refusal(400, 'ZTMESH_SIDECAR_OBS_FOLD', 'obsolete line folding (a header line starting with whitespace)');
    while (TCHAR[buf[i]!] === 1) i++;
    if (i === lineStart || buf[i] !== COLON) return refusal(400, 'ZTMESH_SIDECAR_BAD_HEADER', `invalid header name in ${excerpt(buf, lineStart, end)}`);
    const name = buf.toString('latin1', lineStart, i).toLowerCase();
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (FIELD_VALUE[buf[i]!] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) return refusal(400, 'ZTMESH_SIDECAR_BAD_HEADER', `invalid byte in the value of header ${JSON.stringify(name.slice(0, 60))}`);
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    const value = buf.toString('latin1', valueStart, valueEnd);
    i += 2;
    if (++count > maxHeaderCount) return refusal(431, 'ZTMESH_SIDECAR_TOO_MANY_HEADERS', `more than ${maxHeaderCount} header lines`);
    let drop = false;
    switch (name) {
      case 'host':
        hosts++;
        for (let k = valueStart; k < valueEnd; k++) {
          if (HOST_CHAR[buf[k]!] !== 1) return refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'invalid character in the Host header');
        }
        head.host = value;
        break;
      case 'content-length': {
        if (head.contentLength !== -1) return refusal(400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH', 'Content-Length appears more than once');
        const len = value.length;
        if (len === 0 || len > 15) return refusal(400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH', 'Content-Length must be 1 to 15 decimal digits');
        let n = 0;
        for (let k = 0; k < len; k++) {
          const d = value.charCodeAt(k) - 0x30;
          if (d < 0 || d > 9) return refusal(400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH', `Content-Length is not a decimal number: ${JSON.stringify(value.slice(0, 30))}`);
          n = n * 10 + d;
        }
        head.contentLength = n;
        break;
      }
      case 'transfer-encoding':
        if (head.chunked || http10 || value.toLowerCase() !== 'chunked') {
          return refusal(400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING', `Transfer-Encoding must be exactly one "chunked" on HTTP/1.1, got ${JSON.stringify(value.slice(0, 40))}`);
        }
        head.chunked = true;
        break;
      case 'connection':
        drop = true;
        for (const raw of value.split(',')) {
          const token = raw.trim().toLowerCase();
          if (token === 'close') head.connClose = true;
          else if (token === 'keep-alive') head.connKeepAlive = true;
          else if (token === 'upgrade') head.connUpgrade = true;
          else if (token.length > 0) (connectionTokens ??= []).push(token);
        }
        break;
      case 'upgrade':
        drop = true;
        head.upgrade = head.upgrade === undefined ? value : `${head.upgrade}, ${value}`;
        break;
      case 'expect':
        if (value.toLowerCase() !== '100-continue') return refusal(417, 'ZTMESH_SIDECAR_UNSUPPORTED_EXPECT', 'only "Expect: 100-continue" is supported');
        head.expectContinue = true;
        break;
      case 'x-request-id':
        drop = true;
        // A repeated or malformed id is replaced by a generated one.
        head.requestId = head.requestId === undefined && REQUEST_ID.test(value) ? value : '';
        break;
      case 'traceparent':
        drop = true;
        head.traceparent ??= value;
        break;
      case 'tracestate':
        drop = true;
        head.tracestate = head.tracestate === undefined ? value : `${head.tracestate},${value}`;
        break;
      case 'b3':
        drop = true;
        head.b3 ??= value;
        break;
      case 'keep-alive':
      case 'proxy-connection':
      case 'te':
      case 'x-ztmesh-peer-identity':
        drop = true;
        break;
      default:
        if (name.startsWith('x-b3-')) drop = true;
    }
    head.names.push(name);
    head.values.push(value);
    head.lineStart.push(lineStart);
    head.drop.push(drop);
  }
  if (head.requestId === '') head.requestId = undefined;
  if (hosts > 1) return refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'Host appears more than once');
  if (hosts === 0 && !http10) return refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'HTTP/1.1 request without a Host header');
  if (head.host === '') return refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'empty Host header');
  if (head.chunked && head.contentLength !== -1) return refusal(400, 'ZTMESH_SIDECAR_CL_AND_TE', 'both Content-Length and Transfer-Encoding');
  if (connectionTokens !== undefined) {
    // Headers the client nominated as hop-by-hop are not forwarded (framing headers cannot be nominated).
    for (let k = 0; k < head.names.length; k++) {
      const n = head.names[k]!;
      if (connectionTokens.includes(n) && n !== 'host' && n !== 'content-length' && n !== 'transfer-encoding') head.drop[k] = true;
    }
  }
  return head;
}
