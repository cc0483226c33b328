import type { Socket } from 'node:net';
import type { Expirable } from '../pool/coarse-timers.ts';
import type { Upstream, UpstreamOwner } from '../pool/upstream-pool.ts';
import type { PeerInfo } from '../tls/peer-info.ts';
import type { Refusal } from '../errors/refusal.ts';
import type { Http1Context } from './http1-context.ts';
import type { Route } from './http1-router.ts';
import { refusal } from '../errors/refusal.ts';
import { errorResponse } from '../errors/error-response.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { HEAD_BARE_LF, HEAD_INCOMPLETE, findHeadEnd, skipLeadingCrlf } from './head-end.ts';
import { RequestHead, parseRequestHead } from './request-head.ts';
import { ResponseHead, forwardResponseHead, parseResponseHead } from './response-head.ts';
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedScanner } from './chunked-scanner.ts';
import { forwardRequestHead } from './forward-request-head.ts';
import { requestIds } from './request-id.ts';

// Connection states.
const S_HEAD = 0; // reading a request head (or idle between requests)
const S_CONNECTING = 1; // head parsed, waiting for an upstream connection
const S_EXCHANGE = 2; // request body and/or response flowing
const S_TUNNEL = 3; // after a 101: raw bytes both ways
const S_CLOSED = 4;

// Request body framing.
const B_NONE = 0;
const B_LENGTH = 1;
const B_CHUNKED = 2;

// Response states.
const R_HEAD = 0;
const R_LENGTH = 1;
const R_CHUNKED = 2;
const R_CLOSE = 3;
const R_DONE = 4;

/** Upstream response heads larger than this are refused as malformed. */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** After a final `end()`, the socket is destroyed if the client has not closed within this. */
const LINGER_MS = 5000;

/**
 * One client connection speaking HTTP/1.1 (inbound: a peer sidecar over mTLS; outbound: the local
 * app in plaintext). Requests are parsed strictly from raw bytes, routed by the direction's router,
 * and forwarded one at a time (pipelined requests wait their turn) over a pooled upstream
 * connection; bodies and responses are streamed as bytes, framing tracked without copying. All
 * per-request state lives in fields initialized here; the hot path allocates no closures.
 */
export class Http1Connection implements UpstreamOwner, Expirable {
  readonly socket: Socket;
  readonly ctx: Http1Context;
  readonly peer: PeerInfo | undefined;
  readonly remoteAddress: string;
  readonly localPort: number;
  readonly #onClosed: (conn: Http1Connection) => void;
  state = S_HEAD;
  deadline = 0;
  // Unconsumed client bytes.
  pending: Buffer | null = null;
  pendingStart = 0;
  scanFrom = 0;
  headPartial = false;
  clientEnded = false;
  // Current exchange.
  head: RequestHead | null = null;
  requestId = '';
  route: Route | null = null;
  upstream: Upstream | null = null;
  headBuf: Buffer | null = null;
  reqMode = B_NONE;
  reqRemaining = 0;
  reqDone = false;
  reqBytes = 0;
  reqPaused = false;
  readonly reqScanner = new ChunkedScanner();
  resState = R_HEAD;
  resPending: Buffer | null = null;
  resRemaining = 0;
  resStarted = false;
  resStatus = 0;
  resBytes = 0;
  resReusable = false;
  resPaused = false;
  readonly resScanner = new ChunkedScanner();
  closeAfter = false;
  retried = false;
  upstreamError: Error | null = null;

  constructor(socket: Socket, ctx: Http1Context, peer: PeerInfo | undefined, onClosed: (conn: Http1Connection) => void) {
    this.socket = socket;
    this.ctx = ctx;
    this.peer = peer;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.#onClosed = onClosed;
    this.deadline = ctx.timers.now + ctx.limits.idleTimeoutMs;
    ctx.timers.add(this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.onDrain());
    socket.on('close', () => this.onClose());
    // The server attached an 'error' listener before handing the socket over; errors end in 'close'.
  }

  // ---- client side -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    switch (this.state) {
      case S_TUNNEL:
        this.deadline = this.ctx.timers.now + this.ctx.limits.idleTimeoutMs;
        if (!this.upstream!.socket.write(chunk)) {
          this.socket.pause();
          this.reqPaused = true;
        }
        return;
      case S_HEAD:
        this.append(chunk);
        this.processHeads();
        return;
      case S_EXCHANGE:
        if (!this.reqDone) {
          this.deadline = this.ctx.timers.now + this.ctx.limits.requestTimeoutMs;
          this.forwardBody(chunk, 0);
          return;
        }
        this.append(chunk);
        this.checkBacklog();
        return;
      case S_CONNECTING:
        this.append(chunk);
        this.checkBacklog();
        return;
      default:
    }
  }

  append(chunk: Buffer): void {
    const p = this.pending;
    if (p === null || this.pendingStart >= p.length) {
      this.pending = chunk;
      this.pendingStart = 0;
      this.scanFrom = 0;
    } else {
      this.pending = Buffer.concat([this.pendingStart === 0 ? p : p.subarray(this.pendingStart), chunk]);
      this.scanFrom = Math.max(0, this.scanFrom - this.pendingStart);
      this.pendingStart = 0;
    }
  }

  /** Pipelined bytes beyond one head's worth wait in the kernel, not in memory. */
  checkBacklog(): void {
    const p = this.pending;
    if (p !== null && p.length - this.pendingStart > this.ctx.limits.maxHeaderBytes) this.socket.pause();
  }

  processHeads(): void {
    const ctx = this.ctx;
    const limits = ctx.limits;
    while (this.state === S_HEAD) {
      const buf = this.pending;
      if (buf === null || this.pendingStart >= buf.length) {
        this.pending = null;
        this.headPartial = false;
        if (this.clientEnded || ctx.draining) {
          this.endGracefully();
          return;
        }
        this.deadline = ctx.timers.now + limits.idleTimeoutMs;
        return;
      }
      const start = skipLeadingCrlf(buf, this.pendingStart, Math.min(buf.length, this.pendingStart + 64));
      const limit = Math.min(buf.length, start + limits.maxHeaderBytes);
      const end = findHeadEnd(buf, start, this.scanFrom, limit);
      if (end === HEAD_BARE_LF) {
        this.refuse(refusal(400, 'ZTMESH_SIDECAR_BARE_LF', 'request head lines must end in CRLF'), requestIds.next(), true);
        return;
      }
      if (end === HEAD_INCOMPLETE) {
        if (buf.length - start >= limits.maxHeaderBytes) {
          this.refuse(refusal(431, 'ZTMESH_SIDECAR_HEADERS_TOO_LARGE', `request head exceeds ${limits.maxHeaderBytes} bytes`), requestIds.next(), true);
          return;
        }
        if (this.clientEnded) {
          this.refuse(refusal(400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE', 'connection closed inside a request head'), requestIds.next(), true);
          return;
        }
        this.scanFrom = Math.max(start, buf.length - 3);
        if (!this.headPartial) {
          this.headPartial = true;
          this.deadline = ctx.timers.now + limits.headersTimeoutMs;
        }
        return;
      }
      this.scanFrom = end;
      this.headPartial = false;
      const parsed = parseRequestHead(buf, start, end, limits.maxHeaderCount);
      if (!(parsed instanceof RequestHead)) {
        this.refuse(parsed, requestIds.next(), true);
        return;
      }
      this.pendingStart = end;
      const requestId = parsed.requestId ?? requestIds.next();
      if (parsed.contentLength > limits.maxBodyBytes) {
        this.refuse(refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes`), requestId, true);
        return;
      }
      const routed = ctx.router.route(this, parsed, requestId);
      if ('refusal' in routed) {
        const close = parsed.hasBody() || parsed.isUpgrade() || !parsed.keepAlive() || ctx.draining;
        routed.scope?.end({ status: routed.refusal.status, errorCode: routed.refusal.code, requestBytes: 0, responseBytes: 0 });
        this.refuse(routed.refusal, requestId, close);
        continue;
      }
      this.startExchange(parsed, routed, requestId);
    }
  }

  startExchange(head: RequestHead, route: Route, requestId: string): void {
    this.head = head;
    this.route = route;
    this.requestId = requestId;
    this.reqDone = false;
    this.reqBytes = 0;
    this.resState = R_HEAD;
    this.resStarted = false;
    this.resStatus = 0;
    this.resBytes = 0;
    this.resReusable = false;
    this.closeAfter = !head.keepAlive() || this.ctx.draining;
    this.retried = false;
    this.upstreamError = null;
    if (head.isUpgrade() || !head.hasBody()) {
      this.reqMode = B_NONE;
    } else if (head.chunked) {
      this.reqMode = B_CHUNKED;
      this.reqScanner.reset();
    } else {
      this.reqMode = B_LENGTH;
      this.reqRemaining = head.contentLength;
    }
    this.headBuf = forwardRequestHead(head, route.target, `${route.extraHeaders}x-request-id: ${requestId}\r\n${route.scope.forwardHeaders}`);
    this.state = S_CONNECTING;
    this.acquireUpstream(false);
  }

  acquireUpstream(fresh: boolean): void {
    const pool = this.route!.pool;
    let up: Upstream;
    try {
      up = fresh ? pool.connectNew(this) : pool.acquire(this);
    } catch (err) {
      this.failBeforeResponse(upstreamRefusal(err, pool.name));
      return;
    }
    this.upstream = up;
    if (up.connected) {
      this.onUpstreamConnect(up);
    } else {
      this.socket.pause();
      this.deadline = this.ctx.timers.now + this.ctx.limits.connectTimeoutMs;
    }
  }

  forwardBody(buf: Buffer, start: number): void {
    const end = buf.length;
    let msgEnd: number;
    let done: boolean;
    if (this.reqMode === B_LENGTH) {
      const n = Math.min(this.reqRemaining, end - start);
      msgEnd = start + n;
      this.reqRemaining -= n;
      done = this.reqRemaining === 0;
    } else {
      const r = this.reqScanner.scan(buf, start, end);
      if (r === CHUNKED_ERROR) {
        this.failRequestBody(refusal(400, 'ZTMESH_SIDECAR_BAD_CHUNK', `bad chunked request body: ${this.reqScanner.error}`));
        return;
      }
      if (this.reqScanner.bodyBytes > this.ctx.limits.maxBodyBytes) {
        this.failRequestBody(refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${this.ctx.limits.maxBodyBytes} bytes`));
        return;
      }
      done = r !== CHUNKED_NEED_MORE;
      msgEnd = done ? r : end;
    }
    if (msgEnd > start) {
      this.reqBytes += msgEnd - start;
      const ok = this.upstream!.socket.write(start === 0 && msgEnd === end ? buf : buf.subarray(start, msgEnd));
      if (!ok) {
        this.socket.pause();
        this.reqPaused = true;
      }
    }
    if (!done) return;
    this.reqDone = true;
    if (msgEnd < end) {
      this.pending = buf;
      this.pendingStart = msgEnd;
      this.scanFrom = msgEnd;
      this.checkBacklog();
    }
    this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
    if (this.resState === R_DONE) this.finish();
  }

  onDrain(): void {
    if (this.resPaused && this.upstream !== null) {
      this.resPaused = false;
      this.upstream.socket.resume();
    }
    if (this.state === S_EXCHANGE && this.resStarted) this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
  }

  onEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case S_TUNNEL:
        this.upstream?.socket.end();
        return;
      case S_HEAD:
        this.processHeads();
        return;
      case S_CONNECTING:
      case S_EXCHANGE:
        if (!this.reqDone && this.reqMode !== B_NONE) {
          // The client gave up inside its request body: nothing sensible can follow.
          this.abort();
          return;
        }
        this.closeAfter = true;
        return;
      default:
    }
  }

  onClose(): void {
    const wasOpen = this.state !== S_CLOSED || this.upstream !== null;
    this.state = S_CLOSED;
    this.ctx.timers.delete(this);
    const up = this.upstream;
    this.upstream = null;
    if (up !== null) up.pool.discard(up);
    if (wasOpen && this.route !== null) {
      this.route.scope.end({ status: this.resStatus, errorCode: undefined, requestBytes: this.reqBytes, responseBytes: this.resBytes });
      this.route = null;
    }
    this.#onClosed(this);
  }

  onExpire(): void {
    const limits = this.ctx.limits;
    switch (this.state) {
      case S_HEAD:
        if (this.headPartial) {
          this.refuse(refusal(408, 'ZTMESH_SIDECAR_HEADERS_TIMEOUT', `request head not complete within ${limits.headersTimeoutMs} ms`), requestIds.next(), true);
        } else {
          this.endGracefully();
        }
        return;
      case S_CONNECTING:
        this.dropUpstream();
        this.failBeforeResponse(refusal(504, 'ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `connecting to ${this.route!.pool.name} took longer than ${limits.connectTimeoutMs} ms`));
        return;
      case S_EXCHANGE:
        this.dropUpstream();
        if (this.resStarted) {
          this.logAbort('upstream stalled mid-response');
          this.socket.destroy();
        } else if (!this.reqDone) {
          this.failBeforeResponse(refusal(408, 'ZTMESH_SIDECAR_REQUEST_TIMEOUT', `request body stalled for ${limits.requestTimeoutMs} ms`));
        } else {
          this.failBeforeResponse(refusal(504, 'ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `${this.route!.pool.name} did not answer within ${limits.upstreamTimeoutMs} ms`));
        }
        return;
      default:
        this.abort();
    }
  }

  /** Stop after the current exchange (drain); an idle connection closes now. */
  drain(): void {
    this.closeAfter = true;
    if (this.state === S_HEAD && !this.headPartial) this.endGracefully();
  }

  // ---- upstream side -----------------------------------------------------------------------

  onUpstreamConnect(up: Upstream): void {
    if (up !== this.upstream) return;
    this.state = S_EXCHANGE;
    const head = this.headBuf!;
    // Keep the head only while a retry on a fresh connection is possible (no body to replay).
    if (this.reqMode !== B_NONE) this.headBuf = null;
    up.socket.cork();
    up.socket.write(head);
    this.deadline = this.ctx.timers.now + this.ctx.limits.requestTimeoutMs;
    if (this.reqMode === B_NONE) {
      this.reqDone = true;
      this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
    } else {
      const buf = this.pending;
      const start = this.pendingStart;
      this.pending = null;
      if (buf !== null && start < buf.length) this.forwardBody(buf, start);
    }
    up.socket.uncork();
    if (this.state !== S_EXCHANGE) return;
    if (!this.reqPaused && !this.resPaused) this.socket.resume();
  }

  onUpstreamDrain(up: Upstream): void {
    if (up !== this.upstream) return;
    if (this.reqPaused) {
      this.reqPaused = false;
      this.socket.resume();
    }
  }

  onUpstreamData(up: Upstream, chunk: Buffer): void {
    if (up !== this.upstream) return;
    this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
    if (this.state === S_TUNNEL) {
      this.deadline = this.ctx.timers.now + this.ctx.limits.idleTimeoutMs;
      this.writeDown(chunk);
      return;
    }
    this.resBytes += chunk.length;
    if (this.resState === R_HEAD) {
      // Head and body of a small response leave in one write (one TLS record, one syscall).
      const down = this.socket;
      down.cork();
      this.readResponseHead(chunk);
      down.uncork();
      return;
    }
    this.relayResponseBody(chunk, 0);
  }

  readResponseHead(chunk: Buffer): void {
    let buf = chunk;
    let start = 0;
    if (this.resPending !== null) {
      buf = Buffer.concat([this.resPending, chunk]);
      this.resPending = null;
    }
    for (;;) {
      const end = findHeadEnd(buf, start, start, buf.length);
      if (end === HEAD_BARE_LF) return this.upstreamMalformed('bare LF in the response head');
      if (end === HEAD_INCOMPLETE) {
        if (buf.length - start > MAX_RESPONSE_HEAD) return this.upstreamMalformed('response head too large');
        this.resPending = buf.subarray(start);
        return;
      }
      const parsed = parseResponseHead(buf, start, end);
      if (!(parsed instanceof ResponseHead)) return this.upstreamMalformed(parsed);
      if (parsed.status < 200 && parsed.status !== 101) {
        // 100 Continue, 103 Early Hints: relayed as they are, the final response follows.
        this.writeDown(buf.subarray(start, end));
        start = end;
        continue;
      }
      this.resStatus = parsed.status;
      this.resStarted = true;
      if (parsed.status === 101) {
        if (!this.head!.isUpgrade()) return this.upstreamMalformed('101 without an upgrade request');
        this.writeDown(forwardResponseHead(buf, start, parsed, false));
        this.enterTunnel(buf, end);
        return;
      }
      this.startResponseBody(parsed, buf, start);
      start = end;
      break;
    }
    if (this.resState === R_DONE) {
      if (start < buf.length) this.resReusable = false;
      this.responseComplete();
      return;
    }
    if (start < buf.length) this.relayResponseBody(buf, start);
  }

  startResponseBody(parsed: ResponseHead, buf: Buffer, start: number): void {
    const framing = parsed.framing(this.head!.method);
    if (!this.reqDone || framing === 'close' || this.ctx.draining || this.clientEnded) this.closeAfter = true;
    this.resReusable = parsed.reusable() && framing !== 'close';
    this.writeDown(forwardResponseHead(buf, start, parsed, this.closeAfter));
    switch (framing) {
      case 'none':
        this.resState = R_DONE;
        break;
      case 'length':
        this.resState = R_LENGTH;
        this.resRemaining = parsed.contentLength;
        break;
      case 'chunked':
        this.resState = R_CHUNKED;
        this.resScanner.reset();
        break;
      default:
        this.resState = R_CLOSE;
    }
  }

  relayResponseBody(buf: Buffer, start: number): void {
    const end = buf.length;
    switch (this.resState) {
      case R_LENGTH: {
        const n = Math.min(this.resRemaining, end - start);
        this.resRemaining -= n;
        this.writeDown(start === 0 && n === end ? buf : buf.subarray(start, start + n));
        if (this.resRemaining === 0) {
          if (start + n < end) this.resReusable = false;
          this.responseComplete();
        }
        return;
      }
      case R_CHUNKED: {
        const r = this.resScanner.scan(buf, start, end);
        if (r === CHUNKED_ERROR) {
          this.logAbort(`bad chunked response body: ${this.resScanner.error}`);
          this.abort();
          return;
        }
        const stop = r === CHUNKED_NEED_MORE ? end : r;
        this.writeDown(start === 0 && stop === end ? buf : buf.subarray(start, stop));
        if (r !== CHUNKED_NEED_MORE) {
          if (r < end) this.resReusable = false;
          this.responseComplete();
        }
        return;
      }
      default:
        this.writeDown(start === 0 ? buf : buf.subarray(start));
    }
  }

  writeDown(data: Buffer): void {
    if (!this.socket.write(data) && this.upstream !== null) {
      this.upstream.socket.pause();
      this.resPaused = true;
    }
  }

  onUpstreamEnd(up: Upstream): void {
    if (up !== this.upstream) return;
    if (this.state === S_TUNNEL) {
      this.socket.end();
      return;
    }
    if (this.resState === R_CLOSE) {
      this.resReusable = false;
      this.responseComplete();
    }
  }

  onUpstreamError(up: Upstream, err: Error): void {
    if (up !== this.upstream) return;
    this.upstreamError = err;
  }

  onUpstreamClose(up: Upstream): void {
    if (up !== this.upstream) return;
    this.upstream = null;
    if (this.state === S_TUNNEL) {
      if (this.upstreamError === null) this.socket.end();
      else this.socket.destroy();
      return;
    }
    if (this.state !== S_CONNECTING && this.state !== S_EXCHANGE) return;
    if (this.resState === R_CLOSE && this.upstreamError === null) {
      this.resReusable = false;
      this.responseComplete();
      return;
    }
    if (this.resStarted) {
      this.logAbort('upstream closed mid-response');
      this.socket.destroy();
      return;
    }
    if (up.reused && !this.retried && this.resBytes === 0 && this.headBuf !== null && this.reqMode === B_NONE && !this.head!.isUpgrade()) {
      // A pooled keep-alive connection the upstream had already closed: replay once on a fresh one.
      this.retried = true;
      this.upstreamError = null;
      this.state = S_CONNECTING;
      this.acquireUpstream(true);
      return;
    }
    this.failBeforeResponse(upstreamRefusal(this.upstreamError, this.route!.pool.name));
  }

  // ---- exchange end, refusals ----------------------------------------------------------------

  responseComplete(): void {
    this.resState = R_DONE;
    if (!this.reqDone) this.closeAfter = true;
    this.finish();
  }

  finish(): void {
    const up = this.upstream;
    this.upstream = null;
    if (up !== null) {
      if (this.resPaused) up.socket.resume();
      up.pool.release(up, this.resReusable && this.reqDone);
    }
    this.resPaused = false;
    const route = this.route;
    this.route = null;
    route?.scope.end({ status: this.resStatus, errorCode: undefined, requestBytes: this.reqBytes, responseBytes: this.resBytes });
    this.head = null;
    this.headBuf = null;
    this.resPending = null;
    if (this.closeAfter || this.ctx.draining) {
      this.endGracefully();
      return;
    }
    this.state = S_HEAD;
    if (this.reqPaused) this.reqPaused = false;
    this.socket.resume();
    this.processHeads();
  }

  enterTunnel(buf: Buffer, end: number): void {
    this.state = S_TUNNEL;
    this.resState = R_DONE;
    this.deadline = this.ctx.timers.now + this.ctx.limits.idleTimeoutMs;
    if (end < buf.length) this.writeDown(buf.subarray(end));
    const p = this.pending;
    this.pending = null;
    if (p !== null && this.pendingStart < p.length) this.upstream!.socket.write(p.subarray(this.pendingStart));
    if (this.clientEnded) this.upstream!.socket.end();
    else this.socket.resume();
  }

  /** Answers with the sidecar's JSON error; `close` ends the connection after it. */
  refuse(r: Refusal, requestId: string, close: boolean): void {
    this.ctx.refusals.record(r.code, r.message, { requestId, status: r.status, peer: this.peer?.id, remote: this.remoteAddress });
    if (this.socket.destroyed) return;
    this.socket.write(errorResponse(r, requestId, close || this.ctx.draining));
    if (close || this.ctx.draining) this.endGracefully();
  }

  /** The exchange failed before any response byte went to the client: answer with `r`. */
  failBeforeResponse(r: Refusal): void {
    const route = this.route;
    this.route = null;
    route?.scope.end({ status: r.status, errorCode: r.code, requestBytes: this.reqBytes, responseBytes: 0 });
    this.dropUpstream();
    // Unread body bytes leave the stream state unknown: close after answering.
    const close = !this.reqDone || this.closeAfter || !this.head!.keepAlive();
    this.head = null;
    this.headBuf = null;
    this.resPending = null;
    this.state = S_HEAD;
    this.refuse(r, this.requestId, close);
    if (!close) {
      this.socket.resume();
      this.processHeads();
    }
  }

  failRequestBody(r: Refusal): void {
    if (this.resStarted) {
      this.logAbort(r.message);
      this.abort();
      return;
    }
    this.reqDone = false;
    this.failBeforeResponse(r);
  }

  upstreamMalformed(reason: string): void {
    this.upstreamError = null;
    if (this.resStarted) {
      this.logAbort(`malformed upstream response: ${reason}`);
      this.abort();
      return;
    }
    this.failBeforeResponse(refusal(502, 'ZTMESH_SIDECAR_UPSTREAM_BAD_RESPONSE', `${this.route!.pool.name} sent a malformed response: ${reason}`));
  }

  dropUpstream(): void {
    const up = this.upstream;
    this.upstream = null;
    if (up !== null) up.pool.discard(up);
  }

  endGracefully(): void {
    this.state = S_CLOSED;
    this.dropUpstream();
    this.deadline = this.ctx.timers.now + LINGER_MS;
    if (!this.socket.destroyed) this.socket.end();
  }

  abort(): void {
    this.state = S_CLOSED;
    this.dropUpstream();
    this.socket.destroy();
  }

  logAbort(reason: string): void {
    this.ctx.logger.debug({ requestId: this.requestId, peer: this.peer?.id, reason }, 'exchange aborted');
  }
}
