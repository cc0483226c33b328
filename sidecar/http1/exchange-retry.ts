import type { Upstream } from '../pool/upstream-pool.ts';
import { S_CONNECTING } from './connection-states.ts';
import type { Http1Connection } from './http1-connection.ts';
import type { RetryReason } from './http1-router.ts';
import type { RequestHead } from './request-head.ts';
import { B_LENGTH, B_NONE } from './request-body-framer.ts';

// Sending an HTTP/1.1 request again: once on a fresh connection after a stale keep-alive one, and on
// another endpoint when the route's retry policy allows it.

/** Outbound: a request body up to this size (Content-Length) is kept while forwarded, so the request can be replayed. */
const MAX_REPLAY_BODY = 64 * 1024;

/** At the start of an exchange: keep the body's bytes for a retry (a route that retries, a small Content-Length body). */
export function keepsBodyForReplay(conn: Http1Connection, head: RequestHead): boolean {
  const retry = conn.route!.retry;
  return retry !== undefined && retry !== null && conn.body.mode === B_LENGTH && head.contentLength <= MAX_REPLAY_BODY;
}

/** The request can be sent again: no body, or a kept one that was forwarded whole; never an upgrade. */
export function canReplay(conn: Http1Connection): boolean {
  return (conn.body.mode === B_NONE || (conn.replayable && conn.body.done)) && !conn.head!.isUpgrade();
}

/** A pooled keep-alive connection the upstream had already closed: replay once on a fresh one. True: replaying. */
export function replayAfterStaleConnection(conn: Http1Connection, up: Upstream): boolean {
  if (!up.reused || conn.retried || conn.res.bytes !== 0 || conn.headBuf === null || !canReplay(conn)) return false;
  conn.retried = true;
  conn.upstreamError = null;
  conn.state = S_CONNECTING;
  conn.acquireUpstream(true);
  return true;
}

/**
 * The attempt on `failed` ended in a gateway error or a reset before any response byte reached
 * the client: try again elsewhere when the request can be replayed (no body: the head is still
 * here) and the route's policy allows it (method or route, attempts, budget). False: no retry.
 */
export function retryAfter(conn: Http1Connection, reason: RetryReason, failed: Upstream | null): boolean {
  const route = conn.route!;
  const decider = route.retry;
  if (decider === undefined || decider === null || conn.headBuf === null || !canReplay(conn)) return false;
  if (!decider.retry(conn.head!, route.target, failed, conn.attempts + 1, reason)) return false;
  conn.attempts++;
  if (conn.upstream === failed) conn.upstream = null;
  if (failed !== null) failed.pool.discard(failed);
  conn.res.reset();
  conn.upstreamError = null;
  conn.state = S_CONNECTING;
  conn.acquireUpstream(false);
  return true;
}
