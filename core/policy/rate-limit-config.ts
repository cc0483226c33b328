import { z } from 'zod';

/**
 * Local rate-limit settings (token buckets) set by platform teams in the mesh config; enforced by
 * sidecar/ratelimit. Off unless the mesh config has a `rateLimit` section; once written, safe
 * defaults: generous per-(principal, route) buckets for mesh traffic,
 * tighter per-IP buckets for traffic from outside the mesh, and a hard cap on tracked buckets.
 */

export const bucketSchema = z.strictObject({
  /** Sustained rate: tokens added per second. */
  requestsPerSecond: z.number().positive().max(1_000_000),
  /** Bucket size: the largest burst allowed after a quiet period. */
  burst: z.int().min(1).max(10_000_000),
});

export const routeLimitSchema = z.strictObject({
  /** Route name used in the bucket key and the RateLimit-Policy header. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9._-]'),
  /** The route covers paths equal to this prefix or below it ("/api" covers "/api" and "/api/x"). */
  pathPrefix: z.string().regex(/^\/[^\s?#]*$/, 'must be a path starting with "/"'),
  methods: z.array(z.string().regex(/^[A-Z]+$/)).min(1).optional(),
  limit: bucketSchema,
});

export const rateLimitConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Per (source principal, destination route), for mTLS traffic from the mesh. */
  perPrincipal: bucketSchema.default({ requestsPerSecond: 1000, burst: 2000 }),
  /** Per source IP, for traffic without a mesh identity. */
  perSourceIp: bucketSchema.default({ requestsPerSecond: 100, burst: 200 }),
  /** Route-specific limits for mesh traffic; the first matching route wins, else the default route "*". */
  routes: z.array(routeLimitSchema).default([]),
  /** Buckets kept in memory at most; the least recently used is evicted (and counted) beyond it. */
  maxBuckets: z.int().min(16).max(10_000_000).default(100_000),
});

export type BucketConfig = z.output<typeof bucketSchema>;
export type RouteLimit = z.output<typeof routeLimitSchema>;
export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
