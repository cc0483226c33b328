import { performance } from 'node:perf_hooks';
import { errorCode } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { formatHostPort, type HostPort } from '../config/host-port.ts';
import type { CoarseTimers } from '../pool/coarse-timers.ts';
import { UpstreamPool, type Connector, type ExchangeHooks, type Upstream, type UpstreamOwner } from '../pool/upstream-pool.ts';
import { EndpointPicker, type BalancerKind } from './endpoint-picker.ts';
import { EndpointState } from './endpoint-state.ts';
import { EndpointSeries, type EndpointMetrics, type RetryLabel } from './endpoint-metrics.ts';

/** A request moves to another endpoint at most this many times after connect failures. */
const MAX_FAILOVERS = 2;

/** One endpoint of a service: its state, its own connection pool (same required identity), its series. */
class EndpointSlot implements ExchangeHooks {
  readonly key: string;
  readonly state: EndpointState;
  readonly pool: UpstreamPool;
  readonly series: EndpointSeries;
  readonly #owner: BalancedPool;

  constructor(owner: BalancedPool, key: string, pool: UpstreamPool, series: EndpointSeries) {
    this.#owner = owner;
    this.key = key;
    this.state = new EndpointState(key);
    this.pool = pool;
    this.series = series;
    pool.hooks = this;
  }

  begin(up: Upstream): void {
    up.exchangeStart = performance.now();
    up.answered = false;
    this.state.begin(Date.now());
  }

  firstByte(up: Upstream, chunk: Buffer): void {
    const rttMs = performance.now() - up.exchangeStart;
    this.state.sample(rttMs, Date.now());
    this.series.latency.observe(rttMs / 1000);
    // "HTTP/1.1 NXX": the status class digit is byte 9.
    const d = chunk.length > 9 ? chunk[9]! - 48 : 0;
    this.series.byClass[d >= 1 && d <= 5 ? d : 0]!.inc();
    // 502, 503, 504: a gateway error counts towards outlier ejection.
    const gateway = d === 5 && chunk.length > 11 && chunk[10] === 0x30 && chunk[11]! >= 0x32 && chunk[11]! <= 0x34;
    if (this.state.responded(gateway, Date.now())) this.#owner.ejected(this, 'consecutive gateway errors');
  }

  end(up: Upstream): void {
    if (!up.answered) this.series.byClass[0]!.inc();
    if (this.state.end(up.connected, Date.now())) this.#owner.ejected(this, 'connect failures');
  }

  connectFailed(up: Upstream, err: Error): boolean {
    return this.#owner.failover(this, up, err);
  }
}

export interface BalancedPoolParams {
  readonly service: string;
  readonly kind: BalancerKind;
  readonly metrics: EndpointMetrics;
  /** A connector to one endpoint that requires exactly the service's identity. */
  readonly connectorFor: (endpoint: HostPort) => Connector;
  readonly timers: CoarseTimers;
  readonly idleTimeoutMs: number;
  readonly maxIdle: number;
  readonly logger: Logger;
}

const NO_CONNECTOR: Connector = {
  readyEvent: 'connect',
  connect() {
    throw new Error('a balanced pool connects through its endpoint pools');
  },
};

/**
 * An HTTP/1.1 service's endpoints behind the pool interface the HTTP/1.1 connection uses: each
 * `acquire` picks an endpoint per request (P2C over peak EWMA, or round-robin) and takes a
 * connection from that endpoint's own pool. A connection that fails before it is established
 * (nothing of the request was sent: refused, reset, wrong identity) moves to another endpoint.
 * Endpoints that keep failing are ejected with exponential backoff and probed back in. The
 * endpoint set can be replaced at runtime: endpoints still present keep their pools and state.
 */
export class BalancedPool extends UpstreamPool {
  readonly #p: BalancedPoolParams;
  readonly #picker: EndpointPicker;
  #slots: EndpointSlot[] = [];
  #states: EndpointState[] = [];
  /** The endpoint `reserve()` chose for the next acquire (route and acquire run in one tick). */
  #reserved: EndpointSlot | null = null;
  /** Pools of removed endpoints whose busy connections are still finishing. */
  #retired: UpstreamPool[] = [];

  constructor(p: BalancedPoolParams, endpoints: readonly HostPort[]) {
    super(`service ${p.service}`, NO_CONNECTOR, p.timers, p.idleTimeoutMs, p.maxIdle);
    this.#p = p;
    this.#picker = new EndpointPicker(p.kind);
    this.update(endpoints);
  }

  /** The current endpoints (`host:port`), in order. */
  get endpoints(): readonly string[] {
    return this.#slots.map((s) => s.key);
  }

  /** The state of one endpoint, for tests and the admin view. */
  stateOf(key: string): EndpointState | undefined {
    return this.#slots.find((s) => s.key === key)?.state;
  }

  /**
   * Replaces the endpoint set. Endpoints still present keep their connections and state; removed
   * ones stop receiving requests, their idle connections close and in-use ones close after their
   * exchange. Duplicates are ignored.
   */
  update(endpoints: readonly HostPort[]): void {
    const old = new Map(this.#slots.map((s) => [s.key, s]));
    const next: EndpointSlot[] = [];
    for (const endpoint of endpoints) {
      const key = formatHostPort(endpoint);
      if (next.some((s) => s.key === key)) continue;
      const kept = old.get(key);
      if (kept !== undefined) {
        old.delete(key);
        next.push(kept);
        continue;
      }
      const p = this.#p;
      const pool = new UpstreamPool(`service ${p.service} endpoint ${key}`, p.connectorFor(endpoint), p.timers, p.idleTimeoutMs, p.maxIdle);
      next.push(new EndpointSlot(this, key, pool, new EndpointSeries(p.metrics, p.service, key)));
    }
    this.#retired = this.#retired.filter((pool) => pool.size > 0);
    for (const gone of old.values()) {
      gone.state.retired = true;
      gone.pool.retire();
      if (gone.pool.size > 0) this.#retired.push(gone.pool);
    }
    this.#slots = next;
    this.#states = next.map((s) => s.state);
    this.#reserved = null;
  }

  /** Picks the endpoint for the next request; false when none is in rotation (answer 503). */
  reserve(): boolean {
    this.#reserved = this.#pick(null);
    return this.#reserved !== null;
  }

  override acquire(owner: UpstreamOwner): Upstream {
    const slot = this.#take();
    const up = slot.pool.acquire(owner);
    up.failovers = 0;
    return up;
  }

  override connectNew(owner: UpstreamOwner): Upstream {
    const slot = this.#take();
    const up = slot.pool.connectNew(owner);
    up.failovers = 0;
    return up;
  }

  /** Moves a connection that failed before it was established to another endpoint; false when it cannot. */
  failover(from: EndpointSlot, up: Upstream, err: Error): boolean {
    const now = Date.now();
    const code = errorCode(err);
    const hard = code === 'ZTMESH_SIDECAR_WRONG_PEER_IDENTITY' || code === 'ZTMESH_SIDECAR_PEER_TLS_FAILED';
    up.exchangeStart = 0; // accounted here, not again when the exchange ends
    if (from.state.outstanding > 0) from.state.outstanding--;
    from.series.byClass[0]!.inc();
    if (from.state.failed(now, hard)) this.ejected(from, hard ? `refused its identity (${code})` : 'connect failures');
    if (up.failovers >= MAX_FAILOVERS) return false;
    const to = this.#pick(from.state);
    if (to === null) return false;
    try {
      to.pool.adopt(up, from.pool);
    } catch {
      return false;
    }
    up.failovers++;
    to.begin(up);
    from.series.retried(hard ? 'wrong_identity' : 'connect_failure');
    return true;
  }

  /**
   * Reserves the endpoint for a retry after `failed` (its endpoint is avoided when another one is
   * in rotation) and counts the retry against the failed endpoint; false when none is in rotation.
   */
  reserveRetry(failed: Upstream | null, reason: RetryLabel): boolean {
    const from = failed === null ? null : this.#slotOf(failed);
    this.#reserved = this.#pick(from?.state ?? null) ?? this.#pick(null);
    if (this.#reserved === null) return false;
    from?.series.retried(reason);
    return true;
  }

  /** Counts a timeout against the endpoint of `up`. */
  timedOut(up: Upstream | null): void {
    if (up !== null) this.#slotOf(up)?.series.timeouts.inc();
  }

  #slotOf(up: Upstream): EndpointSlot | null {
    const hooks = up.pool.hooks;
    return hooks instanceof EndpointSlot ? hooks : null;
  }

  ejected(slot: EndpointSlot, why: string): void {
    slot.series.ejections.inc();
    this.#p.logger.warn(
      { service: this.#p.service, endpoint: slot.key, until: new Date(slot.state.ejectedUntil).toISOString(), reason: why },
      'endpoint ejected from the balancer',
    );
  }

  override close(): void {
    for (const s of this.#slots) s.pool.close();
    for (const pool of this.#retired) pool.close();
    super.close();
  }

  #take(): EndpointSlot {
    const slot = this.#reserved ?? this.#pick(null);
    this.#reserved = null;
    if (slot === null) throw new Error(`no endpoint of service ${this.#p.service} is in rotation`);
    return slot;
  }

  #pick(exclude: EndpointState | null): EndpointSlot | null {
    const i = this.#picker.pick(this.#states, Date.now(), exclude);
    return i === -1 ? null : this.#slots[i]!;
  }
}
