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

/** How a response body is delimited on the wire, as a ResponseBodyTap receives it. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/**
 * Reads a response body as it streams past, for an observer that asked for it (the API
 * inventory's JSON sniffing). Sees the bytes the client receives, never alters, delays or keeps
 * them: `data` runs synchronously on buf[start, end) (chunk framing included when `chunked`) and
 * returns false once it wants no more (then `end` is not called); `end` marks the body complete.
 */
export interface ResponseBodyTap {
  data(buf: Buffer, start: number, end: number): boolean;
  end(): void;
}

/** Attributes of a span event (OpenTelemetry-compatible values). */
export type EventAttributes = Readonly<Record<string, string | number | boolean>>;

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
  /**
   * Optional: the final response head is known. `contentType` is the raw Content-Type value,
   * `contentEncoded` whether a Content-Encoding other than identity applies. Returns a tap for the
   * body or (the common case) undefined. Called at most once per request, before `end`.
   */
  response?(status: number, contentType: string | undefined, contentEncoded: boolean, framing: BodyFraming): ResponseBodyTap | undefined;
  /** Optional: records an event on the request's span (nothing when the request is not traced). */
  addEvent?(name: string, attributes: EventAttributes): void;
}

export interface RequestObserver {
  /**
   * `parent` is the scope the observers composed before this one opened for the same request
   * (composeObservers), e.g. to add events to its span; scopes end in reverse order, so it is
   * still open when this one ends.
   */
  start(info: RequestInfo, parent?: RequestScope): RequestScope;
}

const NO_SCOPE: RequestScope = Object.freeze({ forwardHeaders: '', traceId: undefined, end() {} });

/** An observer that records nothing: the data plane's default, and its cost floor in benchmarks. */
export const noopObserver: RequestObserver = Object.freeze({ start: () => NO_SCOPE });
