import type { RequestScope } from '../telemetry/request-observer.ts';
import type { Upstream, UpstreamPool } from '../pool/upstream-pool.ts';
import type { Refusal } from '../errors/refusal.ts';
import type { RequestHead } from './request-head.ts';
import type { Http1Connection } from './http1-connection.ts';
import type { BodyCheck } from '../validation/body-check.ts';

/** Where one request goes: the upstream pool, the target to send, extra header lines, its telemetry scope. */
export interface Route {
  readonly pool: UpstreamPool;
  /** Origin-form target the upstream receives (normalized on inbound, rewritten from absolute-form on outbound). */
  readonly target: string;
  /** Header lines to add (`name: value\r\n`...), after the kept client headers. */
  readonly extraHeaders: string;
  readonly scope: RequestScope;
  /** The largest request body accepted for this request (413 past it); absent: limits.maxBodyBytes. */
  readonly maxBodyBytes?: number;
  /** Inbound: the body must pass this check whole (request validation) before anything is forwarded; it is buffered. */
  readonly bodyCheck?: BodyCheck | undefined;
  /** Outbound: the response head is due within this many ms, retries included (0: no such timeout). */
  readonly timeoutMs?: number;
  /** Outbound: decides retries after gateway errors and resets; null: never. */
  readonly retry?: RetryDecider | null;
}

/** Why an attempt failed before any response byte reached the client. */
export type RetryReason = 'gateway_error' | 'reset';

/**
 * The outbound service's retry policy as the HTTP/1.1 connection sees it. Called only when an
 * attempt failed before any response byte reached the client and the request can be replayed.
 */
export interface RetryDecider {
  /**
   * May attempt `attempt` (1 = the first retry) of this request follow the failure on `failed`?
   * When true, the pool's next acquire goes to another endpoint where there is one.
   */
  retry(head: RequestHead, target: string, failed: Upstream | null, attempt: number, reason: RetryReason): boolean;
  /** The timeout expired on `up` (null: while no connection was attached). */
  timedOut(up: Upstream | null): void;
}

/** A router refusal can carry the telemetry scope it already opened (e.g. a policy denial). */
export interface RoutedRefusal {
  readonly refusal: Refusal;
  readonly scope: RequestScope | undefined;
}

/**
 * A decision that needs I/O first (an end-user JWT to verify): the connection pauses its client
 * and continues when it settles. The promise never rejects.
 */
export interface PendingRoute {
  readonly pending: Promise<Route | RoutedRefusal>;
}

/**
 * The per-direction layer under the HTTP/1.1 connection: decides, for one parsed and validated
 * request head, to refuse it or where to forward it. Inbound normalizes and authorizes; outbound
 * routes by authority. Called once per request on the hot path: no I/O, and a promise
 * (`PendingRoute`) only when a check truly needs one.
 */
export interface Http1Router {
  readonly direction: 'inbound' | 'outbound';
  route(conn: Http1Connection, head: RequestHead, requestId: string): Route | RoutedRefusal | PendingRoute;
}
