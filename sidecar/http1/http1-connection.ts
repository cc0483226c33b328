import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Expirable } from '../pool/coarse-timers.ts';
import type { Upstream, UpstreamOwner } from '../pool/upstream-pool.ts';
import type { PeerInfo } from '../tls/peer-info.ts';
import type { Refusal } from '../errors/refusal.ts';
import type { Http1Context } from './http1-context.ts';
import type { Route, RoutedRefusal } from './http1-router.ts';
import { refusal } from '../errors/refusal.ts';
import type { BodyBuffer } from '../validation/body-buffer.ts';
import { errorResponse } from '../errors/error-response.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { ClientBytes } from './client-bytes.ts';
import { RequestHead } from './request-head.ts';
import { R_CLOSE, R_DONE, R_HEAD, ResponseReader } from './response-reader.ts';
import { B_NONE, FRAME_ERROR, RequestBodyFramer } from './request-body-framer.ts';
import { forwardRequestHead } from './forward-request-head.ts';
import { requestIds } from './request-id.ts';
import { S_BUFFERING, S_CLOSED, S_CONNECTING, S_EXCHANGE, S_HEAD, S_ROUTING, S_TUNNEL } from './connection-states.ts';
import { expire } from './connection-deadlines.ts';
import { keepsBodyForReplay, replayAfterStaleConnection, retryAfter } from './exchange-retry.ts';
import { bufferBody, startBuffering } from './validated-body.ts';

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
  readonly input = new ClientBytes();
  clientEnded = false;
  // Current exchange.
  head: RequestHead | null = null;
  requestId = '';
  route: Route | null = null;
  upstream: Upstream | null = null;
  headBuf: Buffer | null = null;
  reqDone = false;
  reqPaused = false;
  /** Request body framing of the current exchange. */
  readonly body = new RequestBodyFramer();
  resPaused = false;
  /** Response side of the current exchange. */
  readonly res: ResponseReader;
  closeAfter = false;
  retried = false;
  upstreamError: Error | null = null;
  /** A body being read whole for request validation (created on first use). */
  bodyBuffer: BodyBuffer | null = null;
  /** Outbound: when the response head is due (route timeout), 0 for none; cleared once it arrived. */
  responseBy = 0;
  /** Retries of the current exchange after gateway errors or resets. */
  attempts = 0;
  /** Outbound, a small Content-Length body: its bytes as forwarded, kept for a replay. */
  replayable = false;
  readonly replay: Buffer[] = [];
  /**
   * The client socket is TLS: a write handed straight to it (nothing queued before) is encrypted
   * into OpenSSL's buffer before write() returns, so the bytes written are not referenced later.
   */
  readonly #encryptsOnWrite: boolean;
  /** Since the last upstream read began, a write went into a queue (the socket was busy or corked). */
  #queuedWrite = false;

  constructor(socket: Socket, ctx: Http1Context, peer: PeerInfo | undefined, onClosed: (conn: Http1Connection) => void) {
    this.socket = socket;
    this.ctx = ctx;
    this.peer = peer;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.#onClosed = onClosed;
    this.res = new ResponseReader(this);
    this.#encryptsOnWrite = socket instanceof TLSSocket;
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
        this.input.append(chunk);
        this.processHeads();
        return;
      case S_EXCHANGE:
        if (!this.reqDone) {
          this.armBefore(this.ctx.limits.requestTimeoutMs);
          this.forwardBody(chunk, 0);
          return;
        }
        this.input.append(chunk);
        this.checkBacklog();
        return;
      case S_BUFFERING:
        this.deadline = this.ctx.timers.now + this.ctx.limits.requestTimeoutMs;
        bufferBody(this, chunk, 0);
        return;
      case S_CONNECTING:
      case S_ROUTING:
        this.input.append(chunk);
        this.checkBacklog();
        return;
      default:
    }
  }

  /** Pipelined bytes beyond one head's worth wait in the kernel, not in memory. */
  checkBacklog(): void {
    if (this.input.size() > this.ctx.limits.maxHeaderBytes) this.socket.pause();
  }

  processHeads(): void {
    const ctx = this.ctx;
    const limits = ctx.limits;
    const input = this.input;
    while (this.state === S_HEAD) {
      if (input.isEmpty()) {
        input.clear();
        if (this.clientEnded || ctx.draining) {
          this.endGracefully();
          return;
        }
        this.deadline = ctx.timers.now + limits.idleTimeoutMs;
        return;
      }
      const wasPartial = input.partial;
      const parsed = input.nextHead(limits, this.clientEnded);
      if (parsed === undefined) {
        if (!wasPartial) this.deadline = ctx.timers.now + limits.headersTimeoutMs;
        return;
      }
      if (!(parsed instanceof RequestHead)) {
        this.refuse(parsed, requestIds.next(), true);
        return;
      }
      const requestId = parsed.requestId ?? requestIds.next();
      if (parsed.contentLength > limits.maxBodyBytes) {
        this.refuse(refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes`), requestId, true);
        return;
      }
      const routed = ctx.router.route(this, parsed, requestId);
      if ('pending' in routed) {
        this.awaitRoute(parsed, routed.pending, requestId);
        return;
      }
      if ('refusal' in routed) {
        const close = parsed.hasBody() || parsed.isUpgrade() || !parsed.keepAlive() || ctx.draining;
        routed.scope?.end({ status: routed.refusal.status, errorCode: routed.refusal.code, requestBytes: 0, responseBytes: 0 });
        this.refuse(routed.refusal, requestId, close);
        continue;
      }
      this.startExchange(parsed, routed, requestId);
    }
  }

  /** The router needs I/O before deciding: stop reading (later bytes wait in `input`) until it settles. */
  awaitRoute(head: RequestHead, pending: Promise<Route | RoutedRefusal>, requestId: string): void {
    this.state = S_ROUTING;
    this.head = head;
    this.requestId = requestId;
    this.socket.pause();
    this.deadline = this.ctx.timers.now + this.ctx.limits.requestTimeoutMs;
    void pending.then((routed) => this.onRouted(head, routed, requestId));
  }

  onRouted(head: RequestHead, routed: Route | RoutedRefusal, requestId: string): void {
    if (this.state !== S_ROUTING || this.head !== head) {
      // The connection closed or timed out meanwhile: nothing to answer, only the scope to end.
      routed.scope?.end({ status: 0, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
      return;
    }
    this.state = S_HEAD;
    this.head = null;
    if ('refusal' in routed) {
      const close = head.hasBody() || head.isUpgrade() || !head.keepAlive() || this.clientEnded || this.ctx.draining;
      routed.scope?.end({ status: routed.refusal.status, errorCode: routed.refusal.code, requestBytes: 0, responseBytes: 0 });
      this.refuse(routed.refusal, requestId, close);
      if (!close) {
        this.socket.resume();
        this.processHeads();
      }
      return;
    }
    this.startExchange(head, routed, requestId);
    if (this.clientEnded) this.closeAfter = true;
  }

  startExchange(head: RequestHead, route: Route, requestId: string): void {
    this.head = head;
    this.route = route;
    this.requestId = requestId;
    this.reqDone = false;
    this.res.reset();
    this.closeAfter = !head.keepAlive() || this.ctx.draining;
    this.retried = false;
    this.upstreamError = null;
    this.attempts = 0;
    const timeoutMs = route.timeoutMs;
    this.responseBy = timeoutMs === undefined || timeoutMs === 0 ? 0 : this.ctx.timers.now + timeoutMs;
    this.body.start(head);
    this.replayable = keepsBodyForReplay(this, head);
    if (route.bodyCheck !== undefined && this.body.mode !== B_NONE) {
      startBuffering(this);
      return;
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
      this.armBefore(this.ctx.limits.connectTimeoutMs);
    }
  }

  /** Sets the deadline `ms` from now, but no later than the route's response timeout. */
  armBefore(ms: number): void {
    const d = this.ctx.timers.now + ms;
    this.deadline = this.responseBy !== 0 && this.responseBy < d ? this.responseBy : d;
  }

  forwardBody(buf: Buffer, start: number): void {
    const end = buf.length;
    const msgEnd = this.body.frame(buf, start, this.route!.maxBodyBytes ?? this.ctx.limits.maxBodyBytes);
    if (msgEnd === FRAME_ERROR) {
      this.failRequestBody(this.body.error!);
      return;
    }
    if (msgEnd > start) {
      const slice = start === 0 && msgEnd === end ? buf : buf.subarray(start, msgEnd);
      if (this.replayable) this.replay.push(slice);
      const ok = this.upstream!.socket.write(slice);
      if (!ok) {
        this.socket.pause();
        this.reqPaused = true;
      }
    }
    if (!this.body.done) return;
    this.reqDone = true;
    if (msgEnd < end) {
      this.input.keep(buf, msgEnd);
      this.checkBacklog();
    }
    this.armBefore(this.ctx.limits.upstreamTimeoutMs);
    if (this.res.state === R_DONE) this.finish();
  }

  onDrain(): void {
    if (this.resPaused && this.upstream !== null) {
      this.resPaused = false;
      this.upstream.socket.resume();
    }
    if (this.state === S_EXCHANGE && this.res.started) this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
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
      case S_ROUTING:
        // Decided (and closeAfter set) when the route settles.
        return;
      case S_CONNECTING:
      case S_EXCHANGE:
      case S_BUFFERING:
        if (!this.reqDone && this.body.mode !== B_NONE) {
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
      this.route.scope.end({ status: this.res.status, errorCode: undefined, requestBytes: this.body.bytes, responseBytes: this.res.bytes });
      this.route = null;
    }
    this.#onClosed(this);
  }

  onExpire(now: number): void {
    expire(this, now);
  }

  /**
   * Stop after the current exchange (drain); an idle connection closes now. One that has not
   * carried a request yet is left to serve its first (its peer has just connected and may be
   * sending it: closing now would lose it), answered with Connection: close.
   */
  drain(): void {
    this.closeAfter = true;
    if (this.state === S_HEAD && !this.input.partial && this.requestId !== '') this.endGracefully();
  }

  // ---- upstream side -----------------------------------------------------------------------

  onUpstreamConnect(up: Upstream): void {
    if (up !== this.upstream) return;
    this.state = S_EXCHANGE;
    const head = this.headBuf!;
    // Keep the head only while a retry on a fresh connection is possible (no body, or a kept one).
    if (this.body.mode !== B_NONE && !this.replayable) this.headBuf = null;
    // A bodyless request is one buffer, written as it is; a body's first bytes join the head's write.
    const corked = this.body.mode !== B_NONE;
    if (corked) up.socket.cork();
    up.socket.write(head);
    if (this.body.mode === B_NONE) {
      this.reqDone = true;
      this.armBefore(this.ctx.limits.upstreamTimeoutMs);
    } else if (this.replayable && this.body.done) {
      // A replay (retry): the body was kept whole.
      for (const chunk of this.replay) up.socket.write(chunk);
      this.reqDone = true;
      this.armBefore(this.ctx.limits.upstreamTimeoutMs);
    } else {
      this.armBefore(this.ctx.limits.requestTimeoutMs);
      const rest = this.input.take();
      if (rest !== null) this.forwardBody(rest, 0);
    }
    if (corked) up.socket.uncork();
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

  /**
   * Response bytes from the upstream. Returns true when `chunk` may still be referenced after this
   * returns (queued in the client socket's write buffer, or kept as part of an unfinished head),
   * so a reused read buffer must not be overwritten.
   */
  onUpstreamData(up: Upstream, chunk: Buffer): boolean {
    if (up !== this.upstream) return false;
    this.#queuedWrite = false;
    this.deadline = this.ctx.timers.now + this.ctx.limits.upstreamTimeoutMs;
    if (this.state === S_TUNNEL) {
      this.deadline = this.ctx.timers.now + this.ctx.limits.idleTimeoutMs;
      this.writeDown(chunk);
    } else {
      this.res.bytes += chunk.length;
      // Head and body of a small response leave in one write (one TLS record, one syscall): see readHead.
      if (this.res.state === R_HEAD) this.res.readHead(chunk);
      else this.res.relayBody(chunk, 0);
    }
    const socket = this.socket;
    if (this.res.pending !== null || socket.destroyed) return true;
    return this.#encryptsOnWrite ? this.#queuedWrite : socket.writableLength > 0;
  }

  writeDown(data: Buffer): void {
    if (this.socket.writableLength > 0 || this.socket.writableCorked > 0) this.#queuedWrite = true;
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
    if (this.res.state === R_CLOSE) {
      this.res.reusable = false;
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
    if (this.res.state === R_CLOSE && this.upstreamError === null) {
      this.res.reusable = false;
      this.responseComplete();
      return;
    }
    if (this.res.started) {
      this.logAbort('upstream closed mid-response');
      this.socket.destroy();
      return;
    }
    if (replayAfterStaleConnection(this, up)) return;
    if (up.connected && this.res.bytes === 0 && retryAfter(this, 'reset', up)) return;
    this.failBeforeResponse(upstreamRefusal(this.upstreamError, this.route!.pool.name));
  }

  // ---- exchange end, refusals ----------------------------------------------------------------

  responseComplete(): void {
    this.res.state = R_DONE;
    this.res.complete();
    if (!this.reqDone) this.closeAfter = true;
    this.finish();
  }

  finish(): void {
    const up = this.upstream;
    this.upstream = null;
    if (up !== null) {
      if (this.resPaused) up.socket.resume();
      up.pool.release(up, this.res.reusable && this.reqDone);
    }
    this.resPaused = false;
    const route = this.route;
    this.route = null;
    route?.scope.end({ status: this.res.status, errorCode: undefined, requestBytes: this.body.bytes, responseBytes: this.res.bytes });
    this.head = null;
    this.headBuf = null;
    this.res.pending = null;
    if (this.replayable) this.dropReplay();
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
    this.responseBy = 0;
    this.res.state = R_DONE;
    this.deadline = this.ctx.timers.now + this.ctx.limits.idleTimeoutMs;
    if (end < buf.length) this.writeDown(buf.subarray(end));
    const rest = this.input.take();
    if (rest !== null) this.upstream!.socket.write(rest);
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
    route?.scope.end({ status: r.status, errorCode: r.code, requestBytes: this.body.bytes, responseBytes: 0 });
    this.dropUpstream();
    // Unread body bytes leave the stream state unknown: close after answering.
    const close = !this.reqDone || this.closeAfter || !this.head!.keepAlive();
    this.head = null;
    this.headBuf = null;
    this.res.pending = null;
    if (this.replayable) this.dropReplay();
    this.state = S_HEAD;
    this.refuse(r, this.requestId, close);
    if (!close) {
      this.socket.resume();
      this.processHeads();
    }
  }

  dropReplay(): void {
    this.replayable = false;
    this.replay.length = 0;
  }

  failRequestBody(r: Refusal): void {
    if (this.res.started) {
      this.logAbort(r.message);
      this.abort();
      return;
    }
    this.reqDone = false;
    this.failBeforeResponse(r);
  }

  upstreamMalformed(reason: string): void {
    this.upstreamError = null;
    if (this.res.started) {
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
