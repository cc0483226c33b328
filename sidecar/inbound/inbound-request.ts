import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Decision } from '../../core/policy/decision.ts';
import type { RequestAttributes } from '../../core/policy/request.ts';
import type { RequestInfo } from '../telemetry/request-observer.ts';

/** Where an inbound request's headers come from (an HTTP/1.1 head, or HTTP/2 headers). */
export interface HeaderSource {
  readonly host: string | undefined;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;
  header(name: string): string | undefined;
}

/**
 * One inbound request as authorization and telemetry see it: a single object per request serving
 * as both `RequestAttributes` (for the evaluator) and `RequestInfo` (for the observer).
 */
export class InboundRequest implements RequestAttributes, RequestInfo {
  readonly direction = 'inbound' as const;
  readonly principal: SpiffeId | undefined;
  readonly sourcePrincipal: string | undefined;
  readonly destinationPrincipal: string | undefined;
  readonly sourceIp: string;
  readonly destinationPort: number;
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly service: undefined = undefined;
  /** Set by the authn layer once an end-user JWT verified (ISS/SUB), before authorization. */
  requestPrincipal: string | undefined = undefined;
  claims: Readonly<Record<string, unknown>> | undefined = undefined;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;
  decision: Decision | undefined = undefined;
  readonly #headers: HeaderSource | undefined;

  constructor(
    peer: SpiffeId | undefined,
    self: SpiffeId | undefined,
    sourceIp: string,
    destinationPort: number,
    method: string,
    path: string,
    head: HeaderSource | undefined,
  ) {
    this.principal = peer;
    this.sourcePrincipal = peer;
    this.destinationPrincipal = self;
    this.sourceIp = sourceIp;
    this.destinationPort = destinationPort;
    this.method = method;
    this.path = path;
    this.host = head?.host;
    this.traceparent = head?.traceparent;
    this.tracestate = head?.tracestate;
    this.b3 = head?.b3;
    this.#headers = head;
  }

  header(name: string): string | undefined {
    return this.#headers?.header(name);
  }
}
