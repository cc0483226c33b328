import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { RequestScope } from '../telemetry/request-observer.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { CoarseTimers, Expirable } from '../pool/coarse-timers.ts';
import type { RetryLabel } from '../balance/endpoint-metrics.ts';
import type { PooledH2Session } from './h2-session-pool.ts';
import type { H2BalancedService, H2Endpoint } from './h2-balanced-service.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { respondH2Refusal } from './h2-error-response.ts';
import { responseH2Headers } from './h2-headers.ts';

/** Request bytes kept for a replay; a longer request body streams on but can no longer move. */
const MAX_REPLAY_BYTES = 64 * 1024;
/** A stream moves at most this many times after connect failures or refused streams. */
const MAX_FAILOVERS = 2;

/** What one balanced stream needs besides the client stream and its service. */
export interface H2StreamContext {
  readonly grpc: boolean;
  readonly requestId: string;
  readonly method: string;
  /** Origin-form path (with query) the policy's routes match. */
  readonly path: string;
  readonly refusals: RefusalLog;
  readonly scope: RequestScope;
  readonly timers: CoarseTimers;
}

/**
 * One client stream relayed to one endpoint of an HTTP/2 service, moved to another endpoint when
 * that is safe: on a connect failure or a refused stream (REFUSED_STREAM, a session that went away
 * before the stream was sent) always, on a gateway error (502/503/504) or a reset before the
 * response headers only as the service policy allows (idempotent method or retryable route,
 * attempts, budget). A replay needs the request: up to 64 KiB of it is kept until the response
 * headers arrive. The service timeout (coarse timers, no timer per stream) answers 504. Once the
 * response headers are relayed the stream is committed: body and trailers flow with backpressure
 * and resets propagate both ways.
 */
export class BalancedH2Stream implements Expirable {
  deadline = 0;
  readonly #down: ServerHttp2Stream;
  readonly #service: H2BalancedService;
  readonly #headers: OutgoingHttpHeaders;
  readonly #ctx: H2StreamContext;
  #replay: Buffer[] | null = [];
  #replayBytes = 0;
  #downEnded = false;
  #up: ClientHttp2Stream | null = null;
  #upError: Error | null = null;
  #endpoint: H2Endpoint | null = null;
  #pooled: PooledH2Session | null = null;
  #attemptStart = 0;
  #attemptOpen = false;
  #retries = 0;
  #failovers = 0;
  #responded = false;
  /** The sidecar answered itself (refusal, timeout) or the client went away: nothing more to relay. */
  #done = false;
  #status = 0;
  #errorCode: Refusal['code'] | undefined = undefined;
  #trailers: IncomingHttpHeaders | undefined = undefined;

  constructor(down: ServerHttp2Stream, service: H2BalancedService, headers: OutgoingHttpHeaders, ctx: H2StreamContext) {
    this.#down = down;
    this.#service = service;
    this.#headers = headers;
    this.#ctx = ctx;
  }

  start(): void {
    const down = this.#down;
    const ctx = this.#ctx;
    const policy = this.#service.policy;
    down.on('data', (chunk: Buffer) => this.#onDownData(chunk));
    down.on('end', () => {
      this.#downEnded = true;
      this.#up?.end();
    });
    down.on('wantTrailers', () => {
      if (down.destroyed || down.closed) return;
      down.sendTrailers(this.#trailers === undefined ? {} : responseH2Headers(this.#trailers));
    });
    down.on('close', () => this.#onDownClose());
    policy.deposit(Date.now());
    const timeoutMs = policy.timeoutFor(ctx.path);
    if (timeoutMs > 0) {
      this.deadline = ctx.timers.now + timeoutMs;
      ctx.timers.add(this);
    }
    const e = this.#service.pick(null);
    if (e === null) {
      this.#fail(refusal(503, 'ZTMESH_BALANCE_NO_ENDPOINTS', `service ${this.#service.target.name} has no endpoint in rotation`));
      return;
    }
    this.#attempt(e);
  }

  onExpire(): void {
    if (this.#responded || this.#done) return;
    const up = this.#up;
    this.#up = null;
    this.#endpoint?.series.timeouts.inc();
    this.#endAttempt(true);
    if (up !== null && !up.closed) up.close(constants.NGHTTP2_CANCEL);
    this.#fail(refusal(504, 'ZTMESH_BALANCE_TIMEOUT', `service ${this.#service.target.name} sent no response headers within ${this.#service.policy.timeoutFor(this.#ctx.path)} ms`));
  }

  #attempt(e: H2Endpoint): void {
    this.#endpoint = e;
    let pooled: PooledH2Session;
    try {
      pooled = e.pool.get();
    } catch (err) {
      this.#fail(upstreamRefusal(err, `service ${this.#service.target.name}`));
      return;
    }
    this.#pooled = pooled;
    this.#upError = null;
    e.state.begin(Date.now());
    this.#attemptOpen = true;
    this.#attemptStart = performance.now();
    let up: ClientHttp2Stream;
    try {
      up = pooled.session.request(this.#headers, { endStream: false });
    } catch (err) {
      // The session is closing (GOAWAY raced us): nothing was sent.
      this.#upError = err as Error;
      this.#afterFailure(null, true);
      return;
    }
    this.#up = up;
    up.on('response', (h: IncomingHttpHeaders, flags: number) => this.#onResponse(up, h, flags));
    up.on('trailers', (t: IncomingHttpHeaders) => {
      if (up === this.#up) this.#trailers = t;
    });
    up.on('error', (err: Error) => {
      // A stream cancelled because its session failed carries the session's error as its cause.
      if (up === this.#up) this.#upError = err.cause instanceof Error ? err.cause : err;
    });
    up.on('close', () => this.#onUpClose(up));
    if (this.#replay !== null) for (const chunk of this.#replay) up.write(chunk);
    if (this.#downEnded) up.end();
  }

  #onDownData(chunk: Buffer): void {
    if (this.#replay !== null && !this.#responded) {
      if (this.#replayBytes + chunk.length > MAX_REPLAY_BYTES) {
        this.#replay = null;
      } else {
        this.#replay.push(chunk);
        this.#replayBytes += chunk.length;
      }
    }
    const up = this.#up;
    if (up !== null && !up.write(chunk)) {
      this.#down.pause();
      up.once('drain', () => this.#down.resume());
    }
  }

  #onResponse(up: ClientHttp2Stream, h: IncomingHttpHeaders, flags: number): void {
    if (up !== this.#up || this.#done) {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    const e = this.#endpoint!;
    const status = Number(h[':status'] ?? 0);
    const now = Date.now();
    const ms = performance.now() - this.#attemptStart;
    e.state.sample(ms, now);
    e.series.latency.observe(ms / 1000);
    const d = (status / 100) | 0;
    e.series.byClass[d >= 1 && d <= 5 ? d : 0]!.inc();
    const gateway = status >= 502 && status <= 504;
    if (e.state.responded(gateway, now)) this.#service.ejected(e, 'consecutive gateway errors');
    if (gateway && this.#mayRetry(now) && this.#retryElsewhere(up, 'gateway_error')) return;
    this.#responded = true;
    this.#replay = null;
    this.#status = status;
    this.#ctx.timers.delete(this);
    const down = this.#down;
    if (down.destroyed || down.closed || down.headersSent) {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    down.respond(responseH2Headers(h), endStream ? { endStream: true } : { waitForTrailers: true });
    if (!endStream) up.pipe(down);
  }

  /** A gateway error or reset may be retried: the whole request is kept and the policy agrees. */
  #mayRetry(now: number): boolean {
    if (this.#replay === null || !this.#downEnded) return false;
    if (!this.#service.policy.mayRetry(this.#ctx.method, this.#ctx.path, this.#retries + 1, now)) return false;
    this.#retries++;
    return true;
  }

  /** Abandons the attempt on `up` (answered with a gateway error) for another endpoint; false when none is in rotation. */
  #retryElsewhere(up: ClientHttp2Stream, reason: RetryLabel): boolean {
    const from = this.#endpoint!;
    const to = this.#service.pick(from);
    if (to === null) return false;
    this.#up = null;
    this.#endAttempt(true);
    if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
    from.series.retried(reason);
    this.#attempt(to);
    return true;
  }

  #onUpClose(up: ClientHttp2Stream): void {
    if (up !== this.#up) return;
    this.#up = null;
    const code = up.rstCode ?? 0;
    if (this.#responded || this.#done) {
      this.#endAttempt(true);
      const down = this.#down;
      if (this.#responded && code !== constants.NGHTTP2_NO_ERROR && !down.closed && !down.destroyed) down.close(code);
      return;
    }
    // Closed before its response headers: refused (never processed), a failed connect, or a reset.
    const goaway = this.#pooled!.goawayLastStreamId;
    const refused = code === constants.NGHTTP2_REFUSED_STREAM || up.id === undefined || (goaway >= 0 && up.id > goaway);
    this.#afterFailure(up, refused);
  }

  #afterFailure(up: ClientHttp2Stream | null, refused: boolean): void {
    const e = this.#endpoint!;
    const pooled = this.#pooled!;
    const connectFailure = !pooled.connected;
    const err = pooled.error ?? this.#upError ?? new Error(`upstream reset the stream (${up?.rstCode ?? 0})`);
    if (connectFailure) {
      if (this.#attemptOpen) {
        this.#attemptOpen = false;
        if (e.state.outstanding > 0) e.state.outstanding--;
      }
      e.series.byClass[0]!.inc();
      this.#service.connectFailed(e, err);
    } else {
      this.#endAttempt(true);
    }
    if ((connectFailure || refused) && this.#replay !== null && this.#failovers < MAX_FAILOVERS) {
      const to = this.#service.pick(e);
      if (to !== null) {
        this.#failovers++;
        e.series.retried(connectFailure ? 'connect_failure' : 'refused_stream');
        this.#attempt(to);
        return;
      }
    }
    if (!connectFailure && !refused && this.#mayRetry(Date.now())) {
      const to = this.#service.pick(e);
      if (to !== null) {
        e.series.retried('reset');
        this.#attempt(to);
        return;
      }
    }
    this.#fail(upstreamRefusal(err, `service ${this.#service.target.name}`));
  }

  /** The current attempt's stream is over (`connected`: the endpoint was reached). */
  #endAttempt(connected: boolean): void {
    if (!this.#attemptOpen) return;
    this.#attemptOpen = false;
    const e = this.#endpoint!;
    if (!this.#responded && !connected) e.series.byClass[0]!.inc();
    e.state.end(connected, Date.now());
  }

  #fail(r: Refusal): void {
    this.#done = true;
    this.#status = r.status;
    this.#errorCode = r.code;
    this.#ctx.timers.delete(this);
    const ctx = this.#ctx;
    ctx.refusals.record(r.code, r.message, { requestId: ctx.requestId, protocol: 'h2' });
    respondH2Refusal(this.#down, ctx.grpc, r, ctx.requestId);
  }

  #onDownClose(): void {
    this.#ctx.timers.delete(this);
    const down = this.#down;
    const up = this.#up;
    if (!this.#responded) this.#done = true;
    if (up !== null && !up.closed) {
      const code = down.rstCode ?? 0;
      up.close(code === constants.NGHTTP2_NO_ERROR ? constants.NGHTTP2_CANCEL : code);
    }
    this.#ctx.scope.end({ status: this.#status, errorCode: this.#errorCode, requestBytes: 0, responseBytes: 0 });
  }
}
