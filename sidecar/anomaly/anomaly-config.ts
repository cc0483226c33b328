import { z } from 'zod';
import { parseDuration } from '../../core/config/duration.ts';

/** The kinds of deviation the detector reports (the `kind` label of ztmesh_anomalies_total). */
export const ANOMALY_KINDS = ['rate', 'auth-failures', 'not-found-burst', 'client-errors', 'server-errors', 'new-route', 'new-method', 'payload-size'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

const duration = z.union([z.string(), z.int().nonnegative()]).transform((value, ctx): number => {
  if (typeof value === 'number') return value;
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.issues.push({ code: 'custom', message: err instanceof Error ? err.message : String(err), input: value });
    return z.NEVER;
  }
});

const responseSchema = z.strictObject({
  /** What to do with a caller that raised an anomaly: nothing (default), a temporary rate limit, or a temporary DENY. */
  action: z.enum(['none', 'throttle', 'quarantine']).default('none'),
  /** How long a throttle or quarantine lasts; it is lifted automatically (or by `release`). */
  duration: duration.default(600_000),
  /** Requests per second a throttled caller keeps. */
  throttleRps: z.number().positive().default(1),
  /** The kinds that trigger the response (default: all but new-route/new-method, which are single events). */
  kinds: z.array(z.enum(ANOMALY_KINDS)).default(['rate', 'auth-failures', 'not-found-burst', 'payload-size']),
});

/**
 * The sidecar config's `anomaly:` key. Durations are strings (`30s`, `10m`) or milliseconds;
 * the parsed config holds milliseconds.
 */
export const anomalyConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Per caller: no alert until it has been seen this long (observed time, clock jumps excluded)... */
  learningPeriod: duration.default(600_000),
  /** ...and has made at least this many requests. */
  minLearningRequests: z.int().positive().default(50),
  /** Deviations are judged in standard deviations above the learned mean (rate and payload size). */
  threshold: z.number().positive().default(6),
  /** ...and must also be this many times the learned mean. */
  minFactor: z.number().min(1).default(4),
  /** ...and this many times the caller's decaying peak, or minBurstRequests if more (its habitual bursts are normal). */
  peakFactor: z.number().min(1).default(3),
  /** A rate window must hold at least this many requests to alert (no alert on tiny counts). */
  minBurstRequests: z.int().positive().default(20),
  /** ...and at least this many requests per second over the window (20 in a minute is never a flood). */
  minBurstRate: z.number().nonnegative().default(5),
  /** An error burst needs at least this many errors of one class within 10 s... */
  minErrors: z.int().positive().default(10),
  /** ...making at least this share of the caller's recent requests (the last ~10)... */
  minErrorRatio: z.number().min(0).max(1).default(0.5),
  /** ...and this much more than the caller's learned ratio for that class. */
  minErrorRatioIncrease: z.number().min(0).max(1).default(0.3),
  /** Report calls to routes (and methods on routes) a learned caller never used. */
  newRoutes: z.boolean().default(true),
  newMethods: z.boolean().default(true),
  /** A response must be at least this large to count as a payload-size anomaly. */
  minPayloadBytes: z.int().nonnegative().default(65_536),
  /** At most one alert per (caller, kind) in this interval; the rest are counted as suppressed. */
  alertCooldown: duration.default(300_000),
  /** Memory bounds: callers tracked (least recently seen evicted) and routes per caller. */
  maxCallers: z.int().positive().default(2000),
  maxRoutesPerCaller: z.int().positive().default(256),
  /** Clock steps larger than this (forward) count as this much; backward steps count as zero. */
  maxClockStep: duration.default(60_000),
  response: responseSchema.default({ action: 'none', duration: 600_000, throttleRps: 1, kinds: ['rate', 'auth-failures', 'not-found-burst', 'payload-size'] }),
});

export type AnomalyConfig = z.output<typeof anomalyConfigSchema>;
export type AnomalyResponseConfig = AnomalyConfig['response'];

/** The defaults, with `overrides` applied (tests and embedding code). */
export function anomalyConfig(overrides: z.input<typeof anomalyConfigSchema> = {}): AnomalyConfig {
  return anomalyConfigSchema.parse(overrides);
}
