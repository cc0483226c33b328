import { MeshError } from '../../core/errors/mesh-error.ts';
import { formatDuration, parseDuration } from '../../core/config/duration.ts';

/** Lifetime bounds of the certificates a CA issues, in milliseconds. */
export interface TtlPolicy {
  readonly defaultMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** The lowest minimum a CA may be configured with (rotation tests lower the minimum to about a minute). */
export const LOWEST_MIN_TTL_MS = 30_000;

export const DEFAULT_TTL_POLICY: TtlPolicy = Object.freeze({ defaultMs: 3_600_000, minMs: 300_000, maxMs: 86_400_000 });

/** Builds a policy from duration strings (`30m`, `1h`); unset values keep the defaults (1h in [5m, 24h]). */
export function ttlPolicyFrom(options: { defaultTtl?: string | undefined; minTtl?: string | undefined; maxTtl?: string | undefined }): TtlPolicy {
  const policy: TtlPolicy = {
    defaultMs: options.defaultTtl === undefined ? DEFAULT_TTL_POLICY.defaultMs : parseDuration(options.defaultTtl, 'default TTL'),
    minMs: options.minTtl === undefined ? DEFAULT_TTL_POLICY.minMs : parseDuration(options.minTtl, 'minimum TTL'),
    maxMs: options.maxTtl === undefined ? DEFAULT_TTL_POLICY.maxMs : parseDuration(options.maxTtl, 'maximum TTL'),
  };
  checkTtlPolicy(policy);
  return Object.freeze(policy);
}

export function checkTtlPolicy(policy: TtlPolicy): void {
  const problems: string[] = [];
  if (policy.minMs < LOWEST_MIN_TTL_MS) problems.push(`minimum TTL ${formatDuration(policy.minMs)} is below ${formatDuration(LOWEST_MIN_TTL_MS)}`);
  if (policy.minMs > policy.maxMs) problems.push(`minimum TTL ${formatDuration(policy.minMs)} is above maximum ${formatDuration(policy.maxMs)}`);
  if (policy.defaultMs < policy.minMs || policy.defaultMs > policy.maxMs) {
    problems.push(`default TTL ${formatDuration(policy.defaultMs)} is outside [${formatDuration(policy.minMs)}, ${formatDuration(policy.maxMs)}]`);
  }
  if (problems.length > 0) {
    throw new MeshError('ZTMESH_CA_BAD_TTL_BOUNDS', `invalid TTL bounds: ${problems.join('; ')}`, { details: { ...policy } });
  }
}

/**
 * The lifetime to issue for a requested TTL (a duration string, milliseconds, or undefined for the
 * default). Out of bounds is an error, never silently clamped: the caller asked for something else.
 */
export function resolveTtl(policy: TtlPolicy, requested: string | number | undefined): number {
  if (requested === undefined || requested === '') return policy.defaultMs;
  const ms = typeof requested === 'number' ? requested : parseDuration(requested, 'TTL');
  if (!Number.isFinite(ms) || ms < policy.minMs || ms > policy.maxMs) {
    throw new MeshError(
      'ZTMESH_CA_TTL_OUT_OF_BOUNDS',
      `TTL ${typeof requested === 'string' ? requested : formatDuration(ms)} is outside [${formatDuration(policy.minMs)}, ${formatDuration(policy.maxMs)}]`,
      { details: { requestedMs: ms, minMs: policy.minMs, maxMs: policy.maxMs } },
    );
  }
  return ms;
}
