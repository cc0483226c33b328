/**
 * Trace-context propagation headers, parsed strictly: W3C `traceparent`/`tracestate` (version 00
 * only) and B3, single (`b3`) and multi (`x-b3-*`) header forms. Anything malformed is rejected
 * (the caller starts a new trace) and never forwarded as-is; what is forwarded is always W3C,
 * re-serialized from the parsed values.
 */

/** A parsed incoming trace context. `sampled` is undefined when B3 deferred the decision. */
export interface IncomingTraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean | undefined;
  /** The validated `tracestate` (W3C input only), undefined when absent or invalid. */
  readonly traceState: string | undefined;
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // 0-9 or a-f
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Parses a `traceparent` header: exactly `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`,
 * lowercase, ids not all zero. Returns undefined for anything else (including other versions).
 */
export function parseTraceparent(header: string | undefined, tracestate?: string): IncomingTraceContext | undefined {
  if (header === undefined || header.length !== 55) return undefined;
  if (header.charCodeAt(0) !== 48 || header.charCodeAt(1) !== 48) return undefined; // "00"
  if (header[2] !== '-' || header[35] !== '-' || header[52] !== '-') return undefined;
  if (!isLowerHex(header, 3, 35) || !isLowerHex(header, 36, 52) || !isLowerHex(header, 53, 55)) return undefined;
  const traceId = header.slice(3, 35);
  const spanId = header.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const flags = parseInt(header.slice(53, 55), 16);
  return { traceId, spanId, sampled: (flags & 1) === 1, traceState: validTracestate(tracestate) };
}

const TRACESTATE_KEY = /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_TRACESTATE_MEMBERS = 32;
const MAX_TRACESTATE_LENGTH = 512;

/**
 * Returns the `tracestate` re-serialized (members trimmed, empty members dropped) when every
 * member is a valid `key=value` with unique keys and at most 32 members; otherwise undefined.
 */
export function validTracestate(header: string | undefined): string | undefined {
  if (header === undefined || header.length === 0 || header.length > MAX_TRACESTATE_LENGTH) return undefined;
  const members = header.split(',');
  const out: string[] = [];
  const keys = new Set<string>();
  for (const raw of members) {
    const member = raw.trim();
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(value) || keys.has(key)) return undefined;
    keys.add(key);
    out.push(member);
  }
  if (out.length === 0 || out.length > MAX_TRACESTATE_MEMBERS) return undefined;
  return out.join(',');
}

function b3TraceId(s: string): string | undefined {
  if (s.length === 32 && isLowerHex(s, 0, 32)) return s === INVALID_TRACE_ID ? undefined : s;
  if (s.length === 16 && isLowerHex(s, 0, 16)) return s === INVALID_SPAN_ID ? undefined : `0000000000000000${s}`;
  return undefined;
}

function b3SpanId(s: string): string | undefined {
  return s.length === 16 && isLowerHex(s, 0, 16) && s !== INVALID_SPAN_ID ? s : undefined;
}

/** B3 sampling state: '1' or 'd' (debug) sample, '0' does not; absent defers. */
function b3Sampled(s: string | undefined): boolean | undefined | null {
  if (s === undefined) return undefined;
  if (s === '1' || s === 'd' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  return null; // malformed
}

/**
 * The result of parsing B3: a context, or a bare sampling decision (`b3: 0` means "do not
 * sample", with no ids), or undefined when absent or malformed.
 */
export type B3Result = IncomingTraceContext | { readonly sampledOnly: boolean } | undefined;

/** Parses the single-header B3 form: `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]` or `0`/`1`/`d`. */
export function parseB3Single(header: string | undefined): B3Result {
  if (header === undefined || header.length === 0 || header.length > 68) return undefined;
  if (header.length === 1) {
    const s = b3Sampled(header);
    return s === null || s === undefined ? undefined : { sampledOnly: s };
  }
  const parts = header.split('-');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const traceId = b3TraceId(parts[0]!);
  const spanId = b3SpanId(parts[1]!);
  const sampled = b3Sampled(parts[2]);
  if (traceId === undefined || spanId === undefined || sampled === null) return undefined;
  if (parts.length === 4 && b3SpanId(parts[3]!) === undefined) return undefined;
  return { traceId, spanId, sampled, traceState: undefined };
}

/** Parses the multi-header B3 form from `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags`. */
export function parseB3Multi(headers: { header(name: string): string | undefined }): B3Result {
  const rawTrace = headers.header('x-b3-traceid');
  // Common case (no B3 at all): two lookups. x-b3-flags only matters alongside the others.
  const rawSampled = headers.header('x-b3-sampled');
  const sampled = rawTrace !== undefined && headers.header('x-b3-flags') === '1' ? true : b3Sampled(rawSampled);
  if (sampled === null) return undefined;
  if (rawTrace === undefined) return sampled === undefined ? undefined : { sampledOnly: sampled };
  const rawSpan = headers.header('x-b3-spanid');
  if (rawSpan === undefined) return undefined;
  const traceId = b3TraceId(rawTrace);
  const spanId = b3SpanId(rawSpan);
  if (traceId === undefined || spanId === undefined) return undefined;
  return { traceId, spanId, sampled, traceState: undefined };
}

/** Serializes a W3C `traceparent` (version 00). */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
