import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/** Connection-specific headers that must not cross an HTTP/2 hop (RFC 9113 8.2.2), plus ours. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);
const TRACING = new Set(['traceparent', 'tracestate', 'b3']);

export interface ForwardHeaderOptions {
  /** Replaces :path. */
  readonly path?: string;
  /** Drop incoming tracing headers (the observer's forward headers replace them). */
  readonly stripTracing?: boolean;
  /** Further lowercase header names to drop (e.g. a verified end-user token not to forward). */
  readonly strip?: readonly string[];
  /** Added after filtering (e.g. x-ztmesh-peer-identity, x-request-id). */
  readonly add?: Readonly<Record<string, string>>;
}

/**
 * The headers to send on the next hop: without hop-by-hop headers, without any client copy of
 * `x-ztmesh-peer-identity`, `te` only as `trailers` (what gRPC needs), pseudo-headers kept.
 */
export function forwardH2Headers(incoming: IncomingHttpHeaders, options: ForwardHeaderOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-ztmesh-peer-identity') continue;
    if (options.stripTracing === true && (TRACING.has(name) || name.startsWith('x-b3-'))) continue;
    if (options.strip !== undefined && options.strip.includes(name)) continue;
    if (name === 'te') {
      if (String(value).toLowerCase() === 'trailers') out['te'] = 'trailers';
      continue;
    }
    out[name] = value;
  }
  if (options.path !== undefined) out[':path'] = options.path;
  if (options.add !== undefined) for (const [k, v] of Object.entries(options.add)) out[k] = v;
  return out;
}

/** Response headers or trailers to relay downstream: hop-by-hop headers removed. */
export function responseH2Headers(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** A value of a header object as one string (arrays joined with ", "). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** The observer's `forwardHeaders` (`name: value\r\n` lines) as an HTTP/2 header object (lowercase names). */
export function parseHeaderLines(lines: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (lines.length === 0) return out;
  for (const line of lines.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

const REQUEST_ID = /^[A-Za-z0-9._:+=\/-]{1,128}$/;

/** The caller's x-request-id when it is one well-formed value, else undefined. */
export function validRequestId(headers: IncomingHttpHeaders): string | undefined {
  const v = headers['x-request-id'];
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : undefined;
}
