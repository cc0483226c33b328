import type { Decision } from '../../core/policy/decision.ts';

/**
 * The one seam between the data plane and telemetry (traces, request metrics, audit log).
 * The data plane calls `start` once per HTTP request after the head is parsed (and authorized,
 * on inbound) and `scope.end` once when the response is complete or the request failed. Both
 * run on the hot path: implementations must be cheap when sampling is off (no span, no
 * allocation beyond the scope object).
 */
export interface RequestInfo {
  readonly direction: 'inbound' | 'outbound';
  readonly method: string;
  /** Normalized path without the query (never a raw path in metric labels: implementations must not use it as one). */
  readonly path: string;
  readonly host: string | undefined;
  /** Verified SPIFFE ID of the calling workload (inbound: the peer; outbound: ourselves). */
  readonly sourcePrincipal: string | undefined;
  /** SPIFFE ID of the called workload (inbound: ourselves; outbound: the identity required of the server). */
  readonly destinationPrincipal: string | undefined;
  /** Logical service name on outbound, undefined on inbound. */
  readonly service: string | undefined;
  readonly sourceIp: string;
  readonly destinationPort: number;
  /** The incoming propagation headers, raw (validated by the observer, never forwarded as-is if malformed). */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;
  /** Authorization outcome (inbound), known before the request is forwarded or refused. */
  readonly decision: Decision | undefined;
  /** Header lookup for audit records (lowercase names). */
  readonly header: (name: string) => string | undefined;
  /** `ISS/SUB` of a validated end-user JWT (inbound), for audit records; absent when none. */
  readonly requestPrincipal?: string | undefined;
  /** Claims of a validated end-user JWT (inbound), for audit records (secret-named claims are redacted). */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface RequestOutcome {
  readonly status: number;
  /** Stable error code when the sidecar itself answered (denied, no route, upstream refused...). */
  readonly errorCode: string | undefined;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface RequestScope {
  /**
   * Propagation headers to add to the forwarded request, already serialized as
   * `name: value\r\n` lines ('' for none). The data plane always strips incoming
   * traceparent/tracestate/b3/x-b3-* headers and forwards these instead.
   */
  readonly forwardHeaders: string;
  /** The trace id, for log lines; undefined when not traced. */
  readonly traceId: string | undefined;
  end(outcome: RequestOutcome): void;
}

export interface RequestObserver {
  start(info: RequestInfo): RequestScope;
}

const NO_SCOPE: RequestScope = Object.freeze({ forwardHeaders: '', traceId: undefined, end() {} });

/** An observer that records nothing: the data plane's default, and its cost floor in benchmarks. */
export const noopObserver: RequestObserver = Object.freeze({ start: () => NO_SCOPE });
