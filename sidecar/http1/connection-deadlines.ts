import type { Http1Connection } from './http1-connection.ts';
import { refusal } from '../errors/refusal.ts';
import { S_BUFFERING, S_CONNECTING, S_EXCHANGE, S_HEAD } from './connection-states.ts';
import { requestIds } from './request-id.ts';

/**
 * A connection's deadline passed (the coarse timer wheel calls this): answer or close it according
 * to what it was waiting for — a response head (route timeout, 504), a request head or body (408),
 * an upstream connection or answer (504), or nothing (idle: close gracefully).
 */
export function expire(conn: Http1Connection, now: number): void {
  const limits = conn.ctx.limits;
  if (conn.responseBy !== 0 && now >= conn.responseBy && (conn.state === S_CONNECTING || conn.state === S_EXCHANGE) && !conn.res.started) {
    conn.route!.retry?.timedOut(conn.upstream);
    conn.dropUpstream();
    conn.failBeforeResponse(refusal(504, 'ZTMESH_BALANCE_TIMEOUT', `${conn.route!.pool.name} sent no response head within ${conn.route!.timeoutMs} ms`));
    return;
  }
  switch (conn.state) {
    case S_HEAD:
      if (conn.input.partial) {
        conn.refuse(refusal(408, 'ZTMESH_SIDECAR_HEADERS_TIMEOUT', `request head not complete within ${limits.headersTimeoutMs} ms`), requestIds.next(), true);
      } else {
        conn.endGracefully();
      }
      return;
    case S_BUFFERING:
      conn.failBeforeResponse(refusal(408, 'ZTMESH_SIDECAR_REQUEST_TIMEOUT', `request body stalled for ${limits.requestTimeoutMs} ms`));
      return;
    case S_CONNECTING:
      conn.dropUpstream();
      conn.failBeforeResponse(refusal(504, 'ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `connecting to ${conn.route!.pool.name} took longer than ${limits.connectTimeoutMs} ms`));
      return;
    case S_EXCHANGE:
      conn.dropUpstream();
      if (conn.res.started) {
        conn.logAbort('upstream stalled mid-response');
        conn.socket.destroy();
      } else if (!conn.reqDone) {
        conn.failBeforeResponse(refusal(408, 'ZTMESH_SIDECAR_REQUEST_TIMEOUT', `request body stalled for ${limits.requestTimeoutMs} ms`));
      } else {
        conn.failBeforeResponse(refusal(504, 'ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `${conn.route!.pool.name} did not answer within ${limits.upstreamTimeoutMs} ms`));
      }
      return;
    default:
      conn.abort();
  }
}
