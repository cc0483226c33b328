import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, Registry } from '../../core/telemetry/metrics.ts';
import type { RequestInfo, RequestObserver, RequestOutcome, RequestScope } from '../telemetry/request-observer.ts';
import type { Anomaly } from './anomaly.ts';
import { ANOMALY_KINDS, type AnomalyConfig, type AnomalyKind } from './anomaly-config.ts';
import { AnomalyResponder } from './anomaly-response.ts';
import { CallerBaseline, type Report } from './caller-baseline.ts';
import { SteadyClock } from './steady-clock.ts';

export interface AnomalyDetectorOptions {
  readonly config: AnomalyConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Wall clock (ms); default Date.now. Jumps are absorbed by a SteadyClock. */
  readonly now?: () => number;
  /** Called with every alert that is not rate-limited, after it is logged (tests, the dashboard). */
  readonly onAnomaly?: (anomaly: Anomaly) => void;
  /** Recent alerts kept for `/debug/anomalies` (default 100). */
  readonly keepRecent?: number;
}

/** An alert as `/debug/anomalies` lists it: the anomaly and when it was raised (wall clock, ISO). */
export interface RecentAnomaly extends Anomaly {
  readonly time: string;
}

const UNKNOWN_CALLER = 'unknown';
/** The span event an alert adds to the request that raised it. */
export const ANOMALY_EVENT = 'ztmesh.anomaly';
const LRU_TOUCH_INTERVAL = 1_000;
const NO_SCOPE: RequestScope = Object.freeze({ forwardHeaders: '', traceId: undefined, end() {} });

class AnomalyScope implements RequestScope {
  readonly forwardHeaders = '';
  readonly traceId = undefined;
  readonly #detector: AnomalyDetector;
  readonly #caller: string;
  readonly #method: string;
  readonly #path: string;
  /** The request's earlier scopes (telemetry): an alert becomes an event on the request's span. */
  readonly #parent: RequestScope | undefined;
  #ended = false;

  constructor(detector: AnomalyDetector, caller: string, method: string, path: string, parent: RequestScope | undefined) {
    this.#detector = detector;
    this.#caller = caller;
    this.#method = method;
    this.#path = path;
    this.#parent = parent;
  }

  end(outcome: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detector.observe(this.#caller, this.#method, this.#path, outcome.status, outcome.responseBytes, this.#parent);
  }
}

/**
 * Per-identity anomaly detection on inbound traffic, as a RequestObserver. Learns online, per
 * caller SPIFFE ID and per (caller, route template), what normal use looks like (CallerBaseline),
 * and after the learning period reports deviations: one warn line `"type":"anomaly"`, the counter
 * `ztmesh_anomalies_total{kind}`, a `ztmesh.anomaly` event on the request's span (when traced), and
 * the optional response (throttle / quarantine). Alerts are
 * rate-limited per (caller, kind); callers are bounded (least recently seen evicted).
 */
export class AnomalyDetector implements RequestObserver {
  readonly config: AnomalyConfig;
  readonly responder: AnomalyResponder;
  readonly #log: Logger;
  readonly #clock: SteadyClock;
  readonly #callers = new Map<string, CallerBaseline>();
  readonly #anomalies: Counter;
  readonly #suppressed: Counter;
  readonly #evictions: Counter;
  readonly #onAnomaly: ((anomaly: Anomaly) => void) | undefined;
  readonly #wall: () => number;
  readonly #recent: RecentAnomaly[] = [];
  readonly #keepRecent: number;
  #current: CallerBaseline | undefined = undefined;
  #span: RequestScope | undefined = undefined;
  #now = 0;
  readonly #report: Report;

  constructor(options: AnomalyDetectorOptions) {
    this.config = options.config;
    this.#log = options.logger.child({ component: 'anomaly' });
    this.#wall = options.now ?? Date.now;
    this.#keepRecent = options.keepRecent ?? 100;
    this.#clock = new SteadyClock(this.#wall, options.config.maxClockStep);
    this.responder = new AnomalyResponder(options.config.response, options.logger, () => this.#clock.now(), options.config.maxCallers);
    const registry = options.registry;
    this.#anomalies = registry.counter({ name: 'ztmesh_anomalies_total', help: 'Anomalies raised per kind (after per-caller rate limiting).', labelNames: ['kind'], maxSeries: ANOMALY_KINDS.length });
    this.#suppressed = registry.counter({ name: 'ztmesh_anomalies_suppressed_total', help: 'Anomalies not logged because the same caller raised the same kind within the cooldown.', labelNames: ['kind'], maxSeries: ANOMALY_KINDS.length });
    this.#evictions = registry.counter({ name: 'ztmesh_anomaly_callers_evicted_total', help: 'Caller baselines dropped (least recently seen) to stay within anomaly.maxCallers.' });
    const callers = registry.gauge({ name: 'ztmesh_anomaly_callers', help: 'Callers with a learned or learning baseline.' });
    registry.collect(() => callers.set(this.#callers.size));
    this.#onAnomaly = options.onAnomaly;
    this.#report = (kind, method, route, measure, observed, baseline, stddev) => this.#raise(kind, method, route, measure, observed, baseline, stddev);
  }

  get callers(): number {
    return this.#callers.size;
  }

  /** The most recent alerts, newest first (bounded by `keepRecent`). */
  recent(): RecentAnomaly[] {
    return [...this.#recent].reverse();
  }

  start(info: RequestInfo, parent?: RequestScope): RequestScope {
    if (!this.config.enabled || info.direction !== 'inbound') return NO_SCOPE;
    return new AnomalyScope(this, info.sourcePrincipal ?? UNKNOWN_CALLER, info.method, info.path, parent);
  }

  /**
   * Folds one completed request in; `path` is the normalized path (templated by the caller's
   * baseline). An alert raised by this request is added to `span` as a `ztmesh.anomaly` event.
   */
  observe(caller: string, method: string, path: string, status: number, responseBytes: number, span?: RequestScope): void {
    const now = this.#clock.now();
    let c = this.#callers.get(caller);
    if (c === undefined) {
      if (this.#callers.size >= this.config.maxCallers) {
        const oldest = this.#callers.keys().next().value;
        if (oldest !== undefined) {
          this.#callers.delete(oldest);
          this.#evictions.inc();
        }
      }
      c = new CallerBaseline(caller, now);
      this.#callers.set(caller, c);
    } else if (now - c.touched >= LRU_TOUCH_INTERVAL) {
      this.#callers.delete(caller);
      this.#callers.set(caller, c);
    }
    c.touched = now;
    this.#current = c;
    this.#now = now;
    this.#span = span;
    c.observe(now, method, path, status, responseBytes, this.config, this.#report);
    this.#current = undefined;
    this.#span = undefined;
  }

  #raise(kind: AnomalyKind, method: string, route: string, measure: string, observed: number, baseline: number, stddev: number | undefined): void {
    const c = this.#current!;
    const last = c.lastAlert.get(kind);
    if (last !== undefined && this.#now - last < this.config.alertCooldown) {
      this.#suppressed.labels(kind).inc();
      return;
    }
    c.lastAlert.set(kind, this.#now);
    const deviation = stddev !== undefined && stddev > 0 ? (observed - baseline) / stddev : baseline > 0 ? observed / baseline : observed;
    const anomaly: Anomaly = { kind, caller: c.caller, method, route, measure, observed: round(observed), baseline: round(baseline), baselineStddev: stddev === undefined ? undefined : round(stddev), deviation: round(deviation), callerAgeMs: this.#now - c.firstSeen };
    this.#anomalies.labels(kind).inc();
    this.#log.warn(
      { type: 'anomaly', kind, caller: anomaly.caller, method, route, measure, observed: anomaly.observed, baseline: anomaly.baseline, baselineStddev: anomaly.baselineStddev, deviation: anomaly.deviation, callerAgeMs: anomaly.callerAgeMs },
      `anomaly: ${kind} from ${anomaly.caller} on ${method} ${route}: ${measure} ${anomaly.observed} vs baseline ${anomaly.baseline}`,
    );
    if (this.#keepRecent > 0) {
      if (this.#recent.length >= this.#keepRecent) this.#recent.shift();
      this.#recent.push({ ...anomaly, time: new Date(this.#wall()).toISOString() });
    }
    this.#span?.addEvent?.(ANOMALY_EVENT, {
      'ztmesh.anomaly.kind': kind,
      'ztmesh.anomaly.caller': anomaly.caller,
      'ztmesh.anomaly.route': `${method} ${route}`,
      'ztmesh.anomaly.measure': measure,
      'ztmesh.anomaly.observed': anomaly.observed,
      'ztmesh.anomaly.baseline': anomaly.baseline,
      'ztmesh.anomaly.deviation': anomaly.deviation,
    });
    this.responder.respond(anomaly);
    this.#onAnomaly?.(anomaly);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
