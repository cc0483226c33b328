import { z } from 'zod';
import { parseDuration } from '../../core/config/duration.ts';

/**
 * Limits of the HTTP/1.1 data plane (inbound and outbound). Durations are milliseconds. Defaults
 * are safe for an internet-facing proxy; every one can be lowered or raised in the sidecar config.
 */
export interface Http1Limits {
  /** Request line plus headers, in bytes (431 past it). */
  readonly maxHeaderBytes: number;
  /** Header lines per request (431 past it). */
  readonly maxHeaderCount: number;
  /** Request body bytes (413 past it; checked on Content-Length up front and counted on chunked bodies). */
  readonly maxBodyBytes: number;
  /** From the first byte of a request head to its end (408). */
  readonly headersTimeoutMs: number;
  /** Longest pause while a client sends a request body (408 before the response starts, else close). */
  readonly requestTimeoutMs: number;
  /** Keep-alive idle time of a client connection between requests (closed silently). */
  readonly idleTimeoutMs: number;
  /** Longest wait for an upstream answer, or pause inside an upstream response (504 / close). */
  readonly upstreamTimeoutMs: number;
  /** Upstream connect plus TLS handshake (503 past it). */
  readonly connectTimeoutMs: number;
  /** Pooled idle upstream connections are closed after this. */
  readonly upstreamIdleTimeoutMs: number;
  /** Idle upstream connections kept per destination. */
  readonly maxIdlePerUpstream: number;
  /** Concurrent client connections per peer (SPIFFE ID inbound, source address outbound). */
  readonly maxConnectionsPerPeer: number;
  /** HTTP/2: concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
}

export const DEFAULT_HTTP1_LIMITS: Http1Limits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  upstreamTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  upstreamIdleTimeoutMs: 30_000,
  maxIdlePerUpstream: 128,
  maxConnectionsPerPeer: 1024,
  maxConcurrentStreams: 256,
});

const duration = z.string().transform((value, ctx): number => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.issues.push({ code: 'custom', message: err instanceof Error ? err.message : String(err), input: value });
    return z.NEVER;
  }
});
const bytes = z.int().min(1);

/**
 * The `limits:` block the sidecar config may embed (all keys optional, durations as `10s`).
 * Parse with it, then pass the output through `resolveHttp1Limits` to fill the defaults.
 */
export const http1LimitsSchema = z.strictObject({
  maxHeaderBytes: z.int().min(1024).max(1024 * 1024).optional(),
  maxHeaderCount: z.int().min(8).max(10_000).optional(),
  maxBodyBytes: bytes.optional(),
  headersTimeout: duration.optional(),
  requestTimeout: duration.optional(),
  idleTimeout: duration.optional(),
  upstreamTimeout: duration.optional(),
  connectTimeout: duration.optional(),
  upstreamIdleTimeout: duration.optional(),
  maxIdlePerUpstream: z.int().min(0).max(100_000).optional(),
  maxConnectionsPerPeer: z.int().min(1).max(1_000_000).optional(),
  maxConcurrentStreams: z.int().min(1).max(100_000).optional(),
});

export type Http1LimitsConfig = z.output<typeof http1LimitsSchema>;

/** Defaults filled in for every key the config left out. */
export function resolveHttp1Limits(config: Http1LimitsConfig | undefined): Http1Limits {
  const d = DEFAULT_HTTP1_LIMITS;
  const c = config ?? {};
  return Object.freeze({
    maxHeaderBytes: c.maxHeaderBytes ?? d.maxHeaderBytes,
    maxHeaderCount: c.maxHeaderCount ?? d.maxHeaderCount,
    maxBodyBytes: c.maxBodyBytes ?? d.maxBodyBytes,
    headersTimeoutMs: c.headersTimeout ?? d.headersTimeoutMs,
    requestTimeoutMs: c.requestTimeout ?? d.requestTimeoutMs,
    idleTimeoutMs: c.idleTimeout ?? d.idleTimeoutMs,
    upstreamTimeoutMs: c.upstreamTimeout ?? d.upstreamTimeoutMs,
    connectTimeoutMs: c.connectTimeout ?? d.connectTimeoutMs,
    upstreamIdleTimeoutMs: c.upstreamIdleTimeout ?? d.upstreamIdleTimeoutMs,
    maxIdlePerUpstream: c.maxIdlePerUpstream ?? d.maxIdlePerUpstream,
    maxConnectionsPerPeer: c.maxConnectionsPerPeer ?? d.maxConnectionsPerPeer,
    maxConcurrentStreams: c.maxConcurrentStreams ?? d.maxConcurrentStreams,
  });
}
