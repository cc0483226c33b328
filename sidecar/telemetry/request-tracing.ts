import type { Attributes, Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type IncomingTraceContext, parseB3Multi, parseB3Single, parseTraceparent } from '../../core/telemetry/trace-context.ts';
import { shouldSample } from '../../core/telemetry/trace-sampling.ts';
import type { TracingSetup } from '../../core/telemetry/tracing-setup.ts';
import type { RequestInfo, RequestOutcome } from './request-observer.ts';
import { METHODS, methodIndex } from './request-metrics.ts';

/** Where a request's trace context came from: a full context, a bare B3 sampling flag, or nothing. */
type Incoming = IncomingTraceContext | { readonly sampledOnly: boolean } | undefined;

/** Reads the incoming context: W3C first, then B3 single, then B3 multi; malformed ones are ignored. */
export function incomingContext(info: RequestInfo): Incoming {
  const w3c = parseTraceparent(info.traceparent, info.tracestate);
  if (w3c !== undefined) return w3c;
  const single = parseB3Single(info.b3);
  if (single !== undefined) return single;
  return parseB3Multi(info); // a method call: `header` may be a class method
}

// The OpenTelemetry API's enum values (stable in its spec), so that this module, loaded by every
// sidecar, does not load the API: a sidecar with tracing off never loads OpenTelemetry at all.
const SPAN_KIND_SERVER: SpanKind = 1;
const SPAN_KIND_CLIENT: SpanKind = 2;
const STATUS_ERROR: SpanStatusCode = 2;

function isContext(incoming: Incoming): incoming is IncomingTraceContext {
  return incoming !== undefined && 'traceId' in incoming;
}

/** Where `startTrace` writes the trace a request joins or starts (the request scope itself: no extra object). */
export interface TraceTarget {
  traceId: string | undefined;
  forwardHeaders: string;
  span: Span | undefined;
}

function headers(traceId: string, spanId: string, sampled: boolean, traceState: string | undefined): string {
  const parent = `traceparent: 00-${traceId}-${spanId}-${sampled ? '01' : '00'}\r\n`;
  return traceState === undefined ? parent : `${parent}tracestate: ${traceState}\r\n`;
}

/**
 * Decides the request's trace: joins a valid incoming context or starts a new trace, samples
 * (parent-based as configured) and, only when sampled, starts a SERVER (inbound) or CLIENT
 * (outbound) span. The forwarded `traceparent` is always rebuilt: the span's id when sampled; when
 * not, the parent's span id (or a fresh one) with flags 00 and no span object. With tracing off,
 * a valid incoming context is passed through (re-serialized), so the trace is not cut here.
 */
export function startTrace(setup: TracingSetup | undefined, info: RequestInfo, into: TraceTarget): void {
  const incoming = incomingContext(info);
  if (setup === undefined) {
    if (!isContext(incoming)) return;
    into.traceId = incoming.traceId;
    into.forwardHeaders = headers(incoming.traceId, incoming.spanId, incoming.sampled === true, incoming.traceState);
    return;
  }
  const parent = isContext(incoming) ? incoming : undefined;
  const traceId = parent !== undefined ? parent.traceId : setup.ids.newTraceId();
  const parentSampled = parent !== undefined ? parent.sampled : incoming !== undefined ? (incoming as { sampledOnly: boolean }).sampledOnly : undefined;
  if (!shouldSample(setup.sampling, traceId, parentSampled)) {
    const spanId = parent !== undefined ? parent.spanId : setup.ids.newSpanId();
    into.traceId = traceId;
    into.forwardHeaders = headers(traceId, spanId, false, parent?.traceState);
    return;
  }
  const span = startSpan(setup, info, traceId, parent);
  into.traceId = traceId;
  into.forwardHeaders = headers(traceId, span.spanContext().spanId, true, parent?.traceState);
  into.span = span;
}

function startSpan(setup: TracingSetup, info: RequestInfo, traceId: string, parent: IncomingTraceContext | undefined): Span {
  if (parent === undefined) setup.ids.presetTraceId(traceId); // the root span takes the trace id the sampler decided on
  const context = setup.parentContext(parent === undefined ? undefined : { traceId, spanId: parent.spanId, sampled: parent.sampled === true, traceState: parent.traceState });
  const method = METHODS[methodIndex(info.method)]!;
  const attributes: Attributes = {
    'http.request.method': method === 'other' ? '_OTHER' : method,
    'url.path': info.path,
    'server.port': info.destinationPort,
    'client.address': info.sourceIp,
  };
  if (method === 'other') attributes['http.request.method_original'] = info.method.slice(0, 64);
  if (info.host !== undefined) attributes['server.address'] = info.host;
  if (info.sourcePrincipal !== undefined) attributes['ztmesh.source.principal'] = info.sourcePrincipal;
  if (info.destinationPrincipal !== undefined) attributes['ztmesh.destination.principal'] = info.destinationPrincipal;
  if (info.service !== undefined) attributes['ztmesh.service'] = info.service;
  const decision = info.decision;
  if (decision !== undefined) {
    attributes['ztmesh.authz.decision'] = decision.decision;
    attributes['ztmesh.authz.policy'] = decision.policy ?? 'none';
    if (decision.rule !== null) attributes['ztmesh.authz.rule'] = decision.rule;
    attributes['ztmesh.authz.reason'] = decision.reason;
  }
  const name = method === 'other' ? 'HTTP' : method;
  return setup.tracer.startSpan(name, { kind: info.direction === 'inbound' ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT, attributes }, context);
}

/** Ends a request span with the response facts; 5xx (and 4xx on the client side) mark an error. */
export function endSpan(span: Span, direction: 'inbound' | 'outbound', outcome: RequestOutcome): void {
  // The data plane counts bytes on the wire (head and body): OTel's http.request.size / http.response.size.
  if (outcome.status > 0) span.setAttribute('http.response.status_code', outcome.status);
  span.setAttribute('http.request.size', outcome.requestBytes);
  span.setAttribute('http.response.size', outcome.responseBytes);
  if (outcome.errorCode !== undefined) span.setAttribute('error.type', outcome.errorCode);
  const failed = outcome.status === 0 || outcome.status >= 500 || (direction === 'outbound' && outcome.status >= 400);
  if (failed) {
    if (outcome.errorCode === undefined) span.setAttribute('error.type', outcome.status === 0 ? 'no_response' : String(outcome.status));
    span.setStatus({ code: STATUS_ERROR });
  }
  span.end();
}
