import type { Counter, Gauge, Registry } from '../../core/telemetry/metrics.ts';

/**
 * Connection-level metrics of the data plane, shared by the inbound, outbound and TCP listeners of
 * one registry (created on first use, so several servers can share a registry). Label values are
 * bounded: direction, error codes and fixed handshake-failure reasons only.
 */
export class DataPlaneMetrics {
  readonly refusals: Counter;
  readonly openConnections: Gauge;
  readonly connections: Counter;
  readonly handshakeFailures: Counter;

  constructor(registry: Registry) {
    this.refusals =
      (registry.get('ztmesh_sidecar_refusals_total') as Counter | undefined) ??
      registry.counter({ name: 'ztmesh_sidecar_refusals_total', help: 'Requests or connections the sidecar refused itself, by error code.', labelNames: ['direction', 'code'] });
    this.openConnections =
      (registry.get('ztmesh_sidecar_open_connections') as Gauge | undefined) ??
      registry.gauge({ name: 'ztmesh_sidecar_open_connections', help: 'Client connections currently open.', labelNames: ['direction'] });
    this.connections =
      (registry.get('ztmesh_sidecar_connections_total') as Counter | undefined) ??
      registry.counter({ name: 'ztmesh_sidecar_connections_total', help: 'Client connections accepted.', labelNames: ['direction'] });
    this.handshakeFailures =
      (registry.get('ztmesh_tls_handshake_failures_total') as Counter | undefined) ??
      registry.counter({ name: 'ztmesh_tls_handshake_failures_total', help: 'mTLS handshakes refused, by reason.', labelNames: ['direction', 'reason'] });
  }
}
