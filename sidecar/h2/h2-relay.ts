import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { RequestScope, ResponseBodyTap } from '../telemetry/request-observer.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { respondH2Refusal } from './h2-error-response.ts';
import { headerValue, responseH2Headers } from './h2-headers.ts';
import type { PooledH2Session } from './h2-session-pool.ts';

/** What one relayed stream needs besides the two streams. */
export interface H2RelayContext {
  readonly name: string;
  readonly grpc: boolean;
  readonly requestId: string;
  readonly refusals: RefusalLog;
  readonly scope: RequestScope;
  /** The request body, already read whole (request validation): sent instead of streaming the client's. */
  readonly body?: Buffer;
}

/**
 * Relays one HTTP/2 stream to the next hop and back: both directions streamed with backpressure
 * (pipe), response headers and trailers relayed (so gRPC status arrives in trailers), RST_STREAM
 * propagated both ways, and upstream failures before the response mapped to the sidecar's
 * refusal (a gRPC status for gRPC callers).
 */
export function relayH2(down: ServerHttp2Stream, pooled: PooledH2Session, headers: OutgoingHttpHeaders, ctx: H2RelayContext): void {
  let up: ClientHttp2Stream;
  try {
    up = pooled.session.request(headers, { endStream: false });
  } catch (err) {
    fail(down, ctx, pooled.error ?? err);
    return;
  }
  let trailers: IncomingHttpHeaders | undefined;
  let status = 0;
  // Set once the sidecar answered itself: later upstream events must not touch the stream.
  let refused = false;
  const refuse = (err: unknown): void => {
    if (refused) return;
    refused = true;
    // A stream cancelled because its session failed carries the session's error as its cause.
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : undefined;
    fail(down, ctx, pooled.error ?? cause ?? err);
  };
  up.on('response', (h: IncomingHttpHeaders, flags: number) => {
    status = Number(h[':status'] ?? 0);
    // The sidecar may have answered already (a refusal raced the upstream's response): respond()
    // would throw ERR_HTTP2_HEADERS_SENT from this event handler and take the process down.
    if (refused || down.headersSent || down.destroyed || down.closed) {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    down.respond(responseH2Headers(h), endStream ? { endStream: true } : { waitForTrailers: true });
    if (ctx.scope.response !== undefined) tapBody(up, endStream, ctx.scope.response(status, headerValue(h, 'content-type'), encoded(h), endStream ? 'none' : 'length'));
  });
  up.on('trailers', (t: IncomingHttpHeaders) => {
    trailers = t;
  });
  down.on('wantTrailers', () => {
    if (down.destroyed || down.closed) return;
    down.sendTrailers(trailers === undefined ? {} : responseH2Headers(trailers));
  });
  up.on('error', (err: Error) => {
    if (refused) return;
    if (!down.headersSent) refuse(err);
    else if (!down.closed) down.close(constants.NGHTTP2_INTERNAL_ERROR);
  });
  down.on('error', () => {
    if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
  });
  up.on('close', () => {
    const code = up.rstCode ?? 0;
    if (!refused && code !== constants.NGHTTP2_NO_ERROR && !down.closed && !down.destroyed) {
      if (!down.headersSent) refuse(new Error(`upstream reset the stream (${code})`));
      else down.close(code);
    }
    ctx.scope.end({ status, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
  });
  down.on('close', () => {
    const code = down.rstCode ?? 0;
    if (!up.closed) up.close(code === constants.NGHTTP2_NO_ERROR ? constants.NGHTTP2_CANCEL : code);
  });
  if (ctx.body === undefined) down.pipe(up);
  else up.end(ctx.body);
  up.pipe(down);
}

function encoded(h: IncomingHttpHeaders): boolean {
  const ce = headerValue(h, 'content-encoding');
  return ce !== undefined && ce !== '' && ce.toLowerCase() !== 'identity';
}

/** Shows the DATA frames of `up` to an observer's tap as they pass to the client (a listener beside the pipe). */
function tapBody(up: ClientHttp2Stream, endStream: boolean, tap: ResponseBodyTap | undefined): void {
  if (tap === undefined || endStream) return;
  const onData = (chunk: Buffer): void => {
    if (!tap.data(chunk, 0, chunk.length)) {
      up.off('data', onData);
      up.off('end', onEnd);
    }
  };
  const onEnd = (): void => tap.end();
  up.on('data', onData);
  up.once('end', onEnd);
}

function fail(down: ServerHttp2Stream, ctx: H2RelayContext, err: unknown): void {
  const r = upstreamRefusal(err, ctx.name);
  ctx.refusals.record(r.code, r.message, { requestId: ctx.requestId, protocol: 'h2' });
  respondH2Refusal(down, ctx.grpc, r, ctx.requestId);
}
