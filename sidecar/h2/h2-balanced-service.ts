import { errorCode } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { formatHostPort } from '../config/host-port.ts';
import { PeerConnector } from '../outbound/peer-connector.ts';
import { EndpointPicker } from '../balance/endpoint-picker.ts';
import { EndpointState } from '../balance/endpoint-state.ts';
import { EndpointSeries, type EndpointMetrics } from '../balance/endpoint-metrics.ts';
import { ServicePolicy } from '../balance/service-policy.ts';
import { H2SessionPool } from './h2-session-pool.ts';

/** One endpoint of an HTTP/2 service: its balancer state, its multiplexed session, its series. */
export class H2Endpoint {
  readonly key: string;
  readonly state: EndpointState;
  readonly pool: H2SessionPool;
  readonly series: EndpointSeries;

  constructor(key: string, pool: H2SessionPool, series: EndpointSeries) {
    this.key = key;
    this.state = new EndpointState(key);
    this.pool = pool;
    this.series = series;
  }
}

export interface H2ServiceDeps {
  readonly credentials: CredentialsRef;
  readonly trustDomains: ReadonlySet<string>;
  readonly metrics: EndpointMetrics;
  readonly logger: Logger;
}

/**
 * An HTTP/2 (and gRPC) service: one multiplexed mTLS session per endpoint, an endpoint picked per
 * stream by the same P2C over peak-EWMA latency as HTTP/1.1, ejection on connect and identity
 * failures and on consecutive gateway errors, and the service's timeout and retry policy. The
 * endpoint set can be replaced at runtime: endpoints still present keep their sessions and state;
 * removed ones take no new stream and their sessions close with GOAWAY once their streams finish.
 */
export class H2BalancedService {
  target: ServiceTarget;
  readonly policy: ServicePolicy;
  readonly #deps: H2ServiceDeps;
  readonly #picker: EndpointPicker;
  #endpoints: H2Endpoint[] = [];
  #states: EndpointState[] = [];

  constructor(target: ServiceTarget, deps: H2ServiceDeps) {
    this.target = target;
    this.#deps = deps;
    this.#picker = new EndpointPicker(target.balancer ?? 'p2c-ewma');
    this.policy = new ServicePolicy(target, null, deps.metrics, deps.logger);
    this.update(target);
  }

  get endpoints(): readonly H2Endpoint[] {
    return this.#endpoints;
  }

  /** Replaces the target; a changed identity replaces every session (old ones drain). */
  update(target: ServiceTarget): void {
    const identityChanged = target.identity !== this.target.identity;
    this.target = target;
    this.policy.update(target);
    const old = new Map(this.#endpoints.map((e) => [e.key, e]));
    if (identityChanged) old.clear();
    const next: H2Endpoint[] = [];
    for (const endpoint of target.endpoints) {
      const key = formatHostPort(endpoint);
      if (next.some((e) => e.key === key)) continue;
      const kept = old.get(key);
      if (kept !== undefined) {
        old.delete(key);
        next.push(kept);
        continue;
      }
      const d = this.#deps;
      const connector = new PeerConnector(endpoint, target.identity, d.credentials, d.trustDomains, 'h2');
      const pool = new H2SessionPool(`service ${target.name} endpoint ${key}`, `https://${endpoint.host}:${endpoint.port}`, () => connector.connect());
      next.push(new H2Endpoint(key, pool, new EndpointSeries(d.metrics, target.name, key)));
    }
    const removed = identityChanged ? this.#endpoints : [...old.values()];
    for (const gone of removed) {
      gone.state.retired = true;
      gone.pool.retire();
    }
    this.#endpoints = next;
    this.#states = next.map((e) => e.state);
  }

  /** An endpoint for a new stream (avoiding `exclude` when another is available), null when none is in rotation. */
  pick(exclude: H2Endpoint | null): H2Endpoint | null {
    const i = this.#picker.pick(this.#states, Date.now(), exclude?.state ?? null);
    if (i !== -1) return this.#endpoints[i]!;
    if (exclude === null) return null;
    const j = this.#picker.pick(this.#states, Date.now(), null);
    return j === -1 ? null : this.#endpoints[j]!;
  }

  /** A stream could not be opened on `e` because its session failed to connect (or proved another identity). */
  connectFailed(e: H2Endpoint, err: unknown): void {
    const code = errorCode(err);
    const hard = code === 'ZTMESH_SIDECAR_WRONG_PEER_IDENTITY' || code === 'ZTMESH_SIDECAR_PEER_TLS_FAILED';
    if (e.state.failed(Date.now(), hard)) this.ejected(e, hard ? `refused its identity (${code})` : 'connect failures');
  }

  ejected(e: H2Endpoint, why: string): void {
    e.series.ejections.inc();
    this.#deps.logger.warn({ service: this.target.name, endpoint: e.key, until: new Date(e.state.ejectedUntil).toISOString(), reason: why }, 'endpoint ejected from the balancer');
  }

  close(): void {
    for (const e of this.#endpoints) e.pool.close();
  }
}
