import type { Logger } from '../../core/telemetry/logger.ts';
import type { Anomaly } from './anomaly.ts';
import type { AnomalyResponseConfig } from './anomaly-config.ts';

interface Measure {
  readonly action: 'throttle' | 'quarantine';
  readonly until: number;
  readonly kind: string;
}

/**
 * The optional response to anomalies, off by default: a temporary rate limit (throttle) or a
 * temporary DENY (quarantine) of the caller, with an expiry, reversible by `release`. Every action
 * — applied, extended, released, expired — is one audit line (`"type":"audit"`). The data plane asks
 * `isQuarantined(principal)` and `throttleFor(principal)` per request (one map lookup each).
 * Times are the detector's steady clock (milliseconds), so a clock jump neither lifts nor extends a measure.
 */
export class AnomalyResponder {
  readonly #config: AnomalyResponseConfig;
  readonly #audit: Logger;
  readonly #now: () => number;
  readonly #kinds: ReadonlySet<string>;
  readonly #maxEntries: number;
  readonly #measures = new Map<string, Measure>();

  constructor(config: AnomalyResponseConfig, logger: Logger, now: () => number, maxEntries = 10_000) {
    this.#config = config;
    this.#audit = logger.child({ type: 'audit', component: 'anomaly-response' }, { level: 'info' });
    this.#now = now;
    this.#kinds = new Set(config.kinds);
    this.#maxEntries = maxEntries;
  }

  get enabled(): boolean {
    return this.#config.action !== 'none';
  }

  /** Applies the configured action for an anomaly of a triggering kind. */
  respond(anomaly: Anomaly): void {
    const action = this.#config.action;
    if (action === 'none' || !this.#kinds.has(anomaly.kind)) return;
    const now = this.#now();
    const until = now + this.#config.duration;
    const existing = this.#measures.get(anomaly.caller);
    if (existing === undefined && this.#measures.size >= this.#maxEntries) this.#sweep(now);
    if (existing === undefined && this.#measures.size >= this.#maxEntries) {
      this.#audit.warn({ event: 'anomaly-response-skipped', action, principal: anomaly.caller, reason: 'too many callers under measures' }, 'anomaly response skipped');
      return;
    }
    this.#measures.set(anomaly.caller, { action, until, kind: anomaly.kind });
    this.#audit.info(
      { event: existing === undefined ? 'anomaly-response-applied' : 'anomaly-response-extended', action, principal: anomaly.caller, kind: anomaly.kind, durationMs: this.#config.duration, throttleRps: action === 'throttle' ? this.#config.throttleRps : undefined },
      `${action} ${existing === undefined ? 'applied to' : 'extended for'} ${anomaly.caller}`,
    );
  }

  /** True while the caller is quarantined: the data plane answers 403 (ZTMESH_ANOMALY_QUARANTINED is the lead's to register). */
  isQuarantined(principal: string | undefined): boolean {
    return principal !== undefined && this.#current(principal)?.action === 'quarantine';
  }

  /** The requests per second a throttled caller keeps, or undefined when it is not throttled. */
  throttleFor(principal: string | undefined): number | undefined {
    return principal !== undefined && this.#current(principal)?.action === 'throttle' ? this.#config.throttleRps : undefined;
  }

  /** Lifts a measure early (an operator's decision); false when there was none. */
  release(principal: string, by = 'operator'): boolean {
    const m = this.#measures.get(principal);
    if (m === undefined) return false;
    this.#measures.delete(principal);
    this.#audit.info({ event: 'anomaly-response-released', action: m.action, principal, by }, `${m.action} of ${principal} released`);
    return true;
  }

  /** The callers under a measure now, for the admin port. */
  list(): { principal: string; action: string; kind: string; remainingMs: number }[] {
    const now = this.#now();
    this.#sweep(now);
    return [...this.#measures].map(([principal, m]) => ({ principal, action: m.action, kind: m.kind, remainingMs: m.until - now }));
  }

  #current(principal: string): Measure | undefined {
    const m = this.#measures.get(principal);
    if (m === undefined) return undefined;
    if (this.#now() < m.until) return m;
    this.#expire(principal, m);
    return undefined;
  }

  #sweep(now: number): void {
    for (const [principal, m] of this.#measures) if (now >= m.until) this.#expire(principal, m);
  }

  #expire(principal: string, m: Measure): void {
    this.#measures.delete(principal);
    this.#audit.info({ event: 'anomaly-response-expired', action: m.action, principal }, `${m.action} of ${principal} expired`);
  }
}
