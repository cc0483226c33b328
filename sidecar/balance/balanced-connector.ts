import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
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
  readonly #connectorFor: (e: HostPort, identity: SpiffeId) => Connector;
  readonly #metrics: EndpointMetrics;
  #identity: SpiffeId;
  #keys: string[] = [];
  #connectors: Connector[] = [];
  #states: EndpointState[] = [];
  #series: EndpointSeries[] = [];
  readonly #picker: EndpointPicker;
  readonly #logger: Logger;

  constructor(
    service: string,
    kind: BalancerKind,
    endpoints: readonly HostPort[],
    connectorFor: (e: HostPort, identity: SpiffeId) => Connector,
    metrics: EndpointMetrics,
    logger: Logger,
    identity: SpiffeId,
  ) {
    this.#service = service;
    this.#connectorFor = connectorFor;
    this.#metrics = metrics;
    this.#identity = identity;
    this.#picker = new EndpointPicker(kind);
    this.#logger = logger;
    this.update(endpoints, identity);
  }

  /**
   * Replaces the endpoint set (and identity): endpoints still present keep their state; removed
   * ones take no new connection while their open connections run on (opaque bytes: nothing to
   * drain gracefully). A changed identity rebuilds every connector.
   */
  update(endpoints: readonly HostPort[], identity: SpiffeId): void {
    const keep = identity === this.#identity;
    this.#identity = identity;
    const keys: string[] = [];
    const connectors: Connector[] = [];
    const states: EndpointState[] = [];
    const series: EndpointSeries[] = [];
    for (const e of endpoints) {
      const key = formatHostPort(e);
      if (keys.includes(key)) continue;
      const i = keep ? this.#keys.indexOf(key) : -1;
      keys.push(key);
      connectors.push(i === -1 ? this.#connectorFor(e, identity) : this.#connectors[i]!);
      states.push(i === -1 ? new EndpointState(key) : this.#states[i]!);
      series.push(i === -1 ? new EndpointSeries(this.#metrics, this.#service, key) : this.#series[i]!);
    }
    this.#keys = keys;
    this.#connectors = connectors;
    this.#states = states;
    this.#series = series;
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
