import type { Http1Connection } from './http1-connection.ts';
import { HEAD_BARE_LF, HEAD_INCOMPLETE, findHeadEnd } from './head-end.ts';
import { ResponseHead, forwardResponseHead, parseResponseHead } from './response-head.ts';
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedScanner } from './chunked-scanner.ts';
import type { ResponseBodyTap } from '../telemetry/request-observer.ts';
import { retryAfter } from './exchange-retry.ts';

// Response states.
export const R_HEAD = 0;
export const R_LENGTH = 1;
export const R_CHUNKED = 2;
export const R_CLOSE = 3;
export const R_DONE = 4;

/** Upstream response heads larger than this are refused as malformed. */
const MAX_RESPONSE_HEAD = 64 * 1024;

/** Bodies up to this size that arrived with their head are copied behind it into one write. */
const MAX_COALESCED_BODY = 16 * 1024;

/**
 * The response side of one HTTP/1.1 connection's current exchange: parses the upstream's head
 * strictly, rewrites and forwards it, then streams the body bytes downstream while tracking the
 * framing (Content-Length countdown, chunked scan, close-delimited), without copying the body.
 */
export class ResponseReader {
  readonly conn: Http1Connection;
  state = R_HEAD;
  pending: Buffer | null = null;
  remaining = 0;
  started = false;
  status = 0;
  bytes = 0;
  /** The upstream connection can serve another exchange after this response. */
  reusable = false;
  readonly scanner = new ChunkedScanner();
  /** An observer reading this body as it passes (a sampled inventory sniff); null nearly always. */
  tap: ResponseBodyTap | null = null;

  constructor(conn: Http1Connection) {
    this.conn = conn;
  }

  reset(): void {
    this.state = R_HEAD;
    this.pending = null;
    this.remaining = 0;
    this.started = false;
    this.status = 0;
    this.bytes = 0;
    this.reusable = false;
    this.tap = null;
  }

  /** Parses the response head (1xx relayed, 101 to a tunnel), forwards it, then the body bytes of the same chunk. */
  readHead(chunk: Buffer): void {
    let buf = chunk;
    let start = 0;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    for (;;) {
      const end = findHeadEnd(buf, start, start, buf.length);
      if (end === HEAD_BARE_LF) return this.conn.upstreamMalformed('bare LF in the response head');
      if (end === HEAD_INCOMPLETE) {
        if (buf.length - start > MAX_RESPONSE_HEAD) return this.conn.upstreamMalformed('response head too large');
        this.pending = buf.subarray(start);
        return;
      }
      const parsed = parseResponseHead(buf, start, end);
      if (!(parsed instanceof ResponseHead)) return this.conn.upstreamMalformed(parsed);
      if (parsed.status < 200 && parsed.status !== 101) {
        // 100 Continue, 103 Early Hints: relayed as they are, the final response follows.
        this.conn.writeDown(buf.subarray(start, end));
        start = end;
        continue;
      }
      this.status = parsed.status;
      this.started = true;
      if (parsed.status === 101) {
        if (!this.conn.head!.isUpgrade()) return this.conn.upstreamMalformed('101 without an upgrade request');
        this.conn.writeDown(forwardResponseHead(buf, start, parsed, false));
        this.conn.enterTunnel(buf, end);
        return;
      }
      // A gateway error before anything reached the client may be retried on another endpoint.
      if (parsed.status >= 502 && parsed.status <= 504 && start === 0 && retryAfter(this.conn, 'gateway_error', this.conn.upstream)) return;
      start = this.startBody(parsed, buf, start, end);
      break;
    }
    if (this.state === R_DONE) {
      if (start < buf.length) this.reusable = false;
      this.conn.responseComplete();
      return;
    }
    if (start < buf.length) {
      // Corked by startBody: the head and these body bytes leave in one write (one TLS record, one syscall).
      this.relayBody(buf, start);
      this.conn.socket.uncork();
    }
  }

  /**
   * Forwards the final head at buf[start, end) and sets up body framing; returns the offset where
   * the body bytes still to relay begin. A small Content-Length body already complete in `buf` is
   * copied behind the head, both sent in one write (the response is then done).
   */
  startBody(parsed: ResponseHead, buf: Buffer, start: number, end: number): number {
    this.conn.responseBy = 0;
    const framing = parsed.framing(this.conn.head!.method);
    if (!this.conn.reqDone || framing === 'close' || this.conn.ctx.draining || this.conn.clientEnded) this.conn.closeAfter = true;
    this.reusable = parsed.reusable() && framing !== 'close';
    const scope = this.conn.route!.scope;
    if (scope.response !== undefined) {
      const ct = parsed.contentTypeStart < 0 ? undefined : buf.toString('latin1', parsed.contentTypeStart, parsed.contentTypeEnd);
      this.tap = scope.response(parsed.status, ct, parsed.contentEncoded, framing) ?? null;
    }
    if (framing === 'length' && parsed.contentLength <= MAX_COALESCED_BODY && buf.length - end >= parsed.contentLength) {
      const bodyEnd = end + parsed.contentLength;
      this.conn.writeDown(forwardResponseHead(buf, start, parsed, this.conn.closeAfter, bodyEnd));
      if (this.tap !== null && !this.tap.data(buf, end, bodyEnd)) this.tap = null;
      this.state = R_DONE;
      return bodyEnd;
    }
    // Body bytes follow in this chunk: readHead relays them, then uncorks.
    if (framing !== 'none' && end < buf.length) this.conn.socket.cork();
    this.conn.writeDown(forwardResponseHead(buf, start, parsed, this.conn.closeAfter));
    switch (framing) {
      case 'none':
        this.state = R_DONE;
        break;
      case 'length':
        this.state = R_LENGTH;
        this.remaining = parsed.contentLength;
        break;
      case 'chunked':
        this.state = R_CHUNKED;
        this.scanner.reset();
        break;
      default:
        this.state = R_CLOSE;
    }
    return end;
  }

  /** The body is complete: an open tap learns it. */
  complete(): void {
    const tap = this.tap;
    if (tap === null) return;
    this.tap = null;
    tap.end();
  }

  /** Streams response body bytes downstream, tracking where the message ends. */
  relayBody(buf: Buffer, start: number): void {
    const end = buf.length;
    switch (this.state) {
      case R_LENGTH: {
        const n = Math.min(this.remaining, end - start);
        this.remaining -= n;
        this.conn.writeDown(start === 0 && n === end ? buf : buf.subarray(start, start + n));
        if (this.tap !== null && !this.tap.data(buf, start, start + n)) this.tap = null;
        if (this.remaining === 0) {
          if (start + n < end) this.reusable = false;
          this.conn.responseComplete();
        }
        return;
      }
      case R_CHUNKED: {
        const r = this.scanner.scan(buf, start, end);
        if (r === CHUNKED_ERROR) {
          this.conn.logAbort(`bad chunked response body: ${this.scanner.error}`);
          this.conn.abort();
          return;
        }
        const stop = r === CHUNKED_NEED_MORE ? end : r;
        this.conn.writeDown(start === 0 && stop === end ? buf : buf.subarray(start, stop));
        if (this.tap !== null && !this.tap.data(buf, start, stop)) this.tap = null;
        if (r !== CHUNKED_NEED_MORE) {
          if (r < end) this.reusable = false;
          this.conn.responseComplete();
        }
        return;
      }
      default:
        this.conn.writeDown(start === 0 ? buf : buf.subarray(start));
        if (this.tap !== null && !this.tap.data(buf, start, end)) this.tap = null;
    }
  }
}
