import type { Counter } from '../../core/telemetry/metrics.ts';
import type { Registry } from '../../core/telemetry/metrics.ts';
import type { ExpiringCredentialsRef } from './expiring-credentials-ref.ts';

export interface IdentityMetrics {
  /** New SVIDs taken into use (issued by the CA or reloaded from files), by source. */
  readonly renewals: Counter;
  /** Failed issuance/renewal attempts or rejected file reloads, by source and error code. */
  readonly failures: Counter;
}

/**
 * Registers the identity metrics: `ztmesh_certificate_expiry_timestamp_seconds` (notAfter of the
 * SVID in use, 0 when none), `ztmesh_identity_renewals_total{source}` and
 * `ztmesh_identity_renewal_failures_total{source,code}`.
 */
export function registerIdentityMetrics(registry: Registry, credentials: ExpiringCredentialsRef): IdentityMetrics {
  const expiry = registry.gauge({ name: 'ztmesh_certificate_expiry_timestamp_seconds', help: 'Expiry (notAfter, Unix seconds) of the SVID this sidecar serves with; 0 when it holds none.' });
  registry.collect(() => expiry.set(Math.floor((credentials.current?.notAfter ?? 0) / 1000)));
  return {
    renewals: registry.counter({ name: 'ztmesh_identity_renewals_total', help: 'New SVIDs taken into use.', labelNames: ['source'] }),
    failures: registry.counter({ name: 'ztmesh_identity_renewal_failures_total', help: 'Failed SVID issuance, renewal or reload attempts.', labelNames: ['source', 'code'], maxSeries: 100 }),
  };
}
