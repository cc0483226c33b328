import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { formatHostPort, type HostPort } from '../config/host-port.ts';
import type { Connector } from '../pool/upstream-pool.ts';
import { EndpointPicker, type BalancerKind } from './endpoint-picker.ts';
import { EndpointState } from './endpoint-state.ts';
import { EndpointSeries, type EndpointMetrics } from './endpoint-metrics.ts';

/**
 * Per-connection balancing for opaque TCP services: each `connect()` picks an endpoint (P2C over
 * the handshake-time EWMA and open connections, or round-robin) and opens an identity-checked
 * connection to it. Handshake failures count towards ejection (a wrong identity ejects at once).
 * Throws ZTMESH_BALANCE_NO_ENDPOINTS when no endpoint is in rotation.
 */
export class BalancedConnector implements Connector {
  readonly readyEvent = 'secureConnect' as const;
  readonly #service: string;
  readonly #connectors: readonly Connector[];
  readonly #states: readonly EndpointState[];
  readonly #series: readonly EndpointSeries[];
  readonly #picker: EndpointPicker;
  readonly #logger: Logger;

  constructor(service: string, kind: BalancerKind, endpoints: readonly HostPort[], connectorFor: (e: HostPort) => Connector, metrics: EndpointMetrics, logger: Logger) {
    this.#service = service;
    this.#connectors = endpoints.map(connectorFor);
    this.#states = endpoints.map((e) => new EndpointState(formatHostPort(e)));
    this.#series = endpoints.map((e) => new EndpointSeries(metrics, service, formatHostPort(e)));
    this.#picker = new EndpointPicker(kind);
    this.#logger = logger;
  }

  connect(): Socket {
    const now = Date.now();
    const i = this.#picker.pick(this.#states, now, null);
    if (i === -1) {
      throw new MeshError('ZTMESH_BALANCE_NO_ENDPOINTS', `service ${this.#service} has no endpoint in rotation`);
    }
    const state = this.#states[i]!;
    const series = this.#series[i]!;
    const socket = this.#connectors[i]!.connect();
    const started = performance.now();
    state.begin(now);
    let connected = false;
    socket.once('secureConnect', () => {
      connected = true;
      const ms = performance.now() - started;
      state.sample(ms, Date.now());
      series.latency.observe(ms / 1000);
      state.succeeded();
    });
    socket.once('error', (err: Error) => {
      if (connected) return;
      const code = errorCode(err);
      if (state.failed(Date.now(), code === 'ZTMESH_SIDECAR_WRONG_PEER_IDENTITY' || code === 'ZTMESH_SIDECAR_PEER_TLS_FAILED')) {
        series.ejections.inc();
        this.#logger.warn({ service: this.#service, endpoint: state.key, reason: code, until: new Date(state.ejectedUntil).toISOString() }, 'endpoint ejected from the balancer');
      }
    });
    socket.once('close', () => {
      if (state.outstanding > 0) state.outstanding--;
    });
    return socket;
  }
}
