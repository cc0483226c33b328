import type { RequestScope } from '../telemetry/request-observer.ts';
import type { UpstreamPool } from '../pool/upstream-pool.ts';
import type { Refusal } from '../errors/refusal.ts';
import type { RequestHead } from './request-head.ts';
import type { Http1Connection } from './http1-connection.ts';

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
