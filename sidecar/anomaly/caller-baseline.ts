import { routeTemplate } from '../../core/http/route-template.ts';
import type { AnomalyConfig, AnomalyKind } from './anomaly-config.ts';
import { RateWindow } from './rate-window.ts';

/** Time scales of the caller's request-rate baseline (ms), and the one per route. */
export const CALLER_RATE_SCALES: readonly number[] = [1_000, 10_000, 60_000];
const ROUTE_RATE_SCALE = 10_000;
const ERROR_WINDOW = 10_000;
/** Rate baselines remember about this long (ms), and their peaks decay with this half-life. */
const RATE_MEMORY = 600_000;
const PEAK_HALF_LIFE = 3_600_000;
const RATIO_ALPHA = 0.1;
const SIZE_ALPHA = 0.05;
const MAX_IDLE_WINDOWS = 10;
/** Windows a rate baseline needs before it may alert. */
const MIN_RATE_WINDOWS = 5;
const MIN_SIZE_SAMPLES = 20;
const MAX_METHODS_PER_ROUTE = 16;
/** Re-inserting an entry for LRU order at most this often (ms): approximate LRU, cheap per request. */
const LRU_TOUCH_INTERVAL = 1_000;

const ERROR_KINDS: readonly AnomalyKind[] = ['auth-failures', 'not-found-burst', 'client-errors', 'server-errors'];
const ERROR_MEASURES = ['401/403 share of recent requests', '404 share of recent requests', 'other 4xx share of recent requests', '5xx share of recent requests'];
/** Memory of the recent-share estimate, in requests (per-request EWMA). */
const RECENT_ALPHA = 0.1;

function errorClass(status: number): number {
  if (status === 401 || status === 403) return 0;
  if (status === 404) return 1;
  if (status >= 400 && status < 500) return 2;
  if (status >= 500 && status < 600) return 3;
  return -1;
}

class RouteBaseline {
  readonly methods: string[] = [];
  count = 0;
  sizeMean = 0;
  sizeVariance = 0;
  sizeSamples = 0;
  touched: number;
  readonly rate: RateWindow;

  constructor(now: number) {
    this.touched = now;
    this.rate = new RateWindow(ROUTE_RATE_SCALE, now, RATE_MEMORY, PEAK_HALF_LIFE);
  }
}

/** What one request reveals; the detector turns a non-undefined result of `observe` into alerts. */
export type Report = (kind: AnomalyKind, method: string, route: string, measure: string, observed: number, baseline: number, stddev: number | undefined) => void;

/**
 * Everything learned about one caller (one SPIFFE ID) calling this workload: request rates at
 * three time scales, error shares per class, the routes it calls (with their methods, rate and
 * response sizes). Bounded: at most `maxRoutesPerCaller` routes, least recently seen evicted.
 */
export class CallerBaseline {
  readonly caller: string;
  readonly firstSeen: number;
  touched: number;
  requests = 0;
  readonly rates: RateWindow[];
  readonly routes = new Map<string, RouteBaseline>();
  #errorStart: number;
  #errorTotal = 0;
  readonly #errorCounts = [0, 0, 0, 0];
  readonly #errorFired = [false, false, false, false];
  readonly #errorRatio = [0, 0, 0, 0];
  /** Share of each error class among the last ~10 requests (per-request EWMA). */
  readonly #recent = [0, 0, 0, 0];
  #errorWindows = 0;
  /** Last alert time per kind (steady ms), for the per-(caller, kind) cooldown. */
  readonly lastAlert = new Map<AnomalyKind, number>();

  constructor(caller: string, now: number) {
    this.caller = caller;
    this.firstSeen = now;
    this.touched = now;
    this.rates = CALLER_RATE_SCALES.map((w) => new RateWindow(w, now, RATE_MEMORY, PEAK_HALF_LIFE));
    this.#errorStart = now - (now % ERROR_WINDOW);
  }

  learned(now: number, config: AnomalyConfig): boolean {
    return now - this.firstSeen >= config.learningPeriod && this.requests >= config.minLearningRequests;
  }

  /** Folds one completed request (normalized `path`) into the baseline, reporting deviations once learned. */
  observe(now: number, method: string, path: string, status: number, responseBytes: number, config: AnomalyConfig, report: Report): void {
    // A path without identifiers is its own template (routeTemplate is idempotent): one lookup.
    let r = this.routes.get(path);
    const route = r === undefined ? routeTemplate(path) : path;
    if (r === undefined && route !== path) r = this.routes.get(route);
    const learned = this.learned(now, config);
    this.requests++;

    for (const w of this.rates) {
      w.advance(now, MAX_IDLE_WINDOWS);
      w.count++;
      if (learned) checkRate(w, config, method, route, `requests per ${w.width / 1000}s`, report);
    }

    if (r === undefined) {
      if (learned && config.newRoutes) report('new-route', method, route, 'calls to a route this caller never used', 1, 0, undefined);
      r = this.#addRoute(route, now, config.maxRoutesPerCaller);
    } else if (now - r.touched >= LRU_TOUCH_INTERVAL) {
      this.routes.delete(route);
      this.routes.set(route, r);
    }
    r.touched = now;
    r.count++;
    if (!r.methods.includes(method)) {
      if (learned && config.newMethods && r.methods.length > 0) report('new-method', method, route, `method never used on this route (known: ${r.methods.join(',')})`, 1, 0, undefined);
      if (r.methods.length < MAX_METHODS_PER_ROUTE) r.methods.push(method);
    }
    r.rate.advance(now, MAX_IDLE_WINDOWS);
    r.rate.count++;
    if (learned) checkRate(r.rate, config, method, route, `requests per ${ROUTE_RATE_SCALE / 1000}s on this route`, report);

    this.#observeErrors(now, status, learned, config, method, route, report);
    this.#observeSize(r, responseBytes, learned, config, method, route, report);
  }

  #addRoute(route: string, now: number, cap: number): RouteBaseline {
    if (this.routes.size >= cap) {
      const oldest = this.routes.keys().next().value;
      if (oldest !== undefined) this.routes.delete(oldest);
    }
    const r = new RouteBaseline(now);
    this.routes.set(route, r);
    return r;
  }

  #observeErrors(now: number, status: number, learned: boolean, config: AnomalyConfig, method: string, route: string, report: Report): void {
    if (now >= this.#errorStart + ERROR_WINDOW) {
      if (this.#errorTotal > 0) {
        for (let c = 0; c < 4; c++) {
          const ratio = this.#errorCounts[c]! / this.#errorTotal;
          this.#errorRatio[c] = this.#errorWindows === 0 ? ratio : this.#errorRatio[c]! + RATIO_ALPHA * (ratio - this.#errorRatio[c]!);
          this.#errorCounts[c] = 0;
          this.#errorFired[c] = false;
        }
        this.#errorWindows++;
      }
      this.#errorTotal = 0;
      this.#errorStart = now - (now % ERROR_WINDOW);
    }
    this.#errorTotal++;
    const c = errorClass(status);
    for (let k = 0; k < 4; k++) this.#recent[k]! += RECENT_ALPHA * ((k === c ? 1 : 0) - this.#recent[k]!);
    if (c < 0) return;
    const n = ++this.#errorCounts[c]!;
    if (!learned || this.#errorFired[c] || n < config.minErrors) return;
    const ratio = this.#recent[c]!;
    const base = this.#errorRatio[c]!;
    if (ratio >= config.minErrorRatio && ratio >= base + config.minErrorRatioIncrease) {
      this.#errorFired[c] = true;
      report(ERROR_KINDS[c]!, method, route, ERROR_MEASURES[c]!, ratio, base, undefined);
    }
  }

  #observeSize(r: RouteBaseline, bytes: number, learned: boolean, config: AnomalyConfig, method: string, route: string, report: Report): void {
    const x = Math.log2(bytes + 1);
    if (learned && r.sizeSamples >= MIN_SIZE_SAMPLES && bytes >= config.minPayloadBytes) {
      const typical = 2 ** r.sizeMean - 1;
      const sd = Math.sqrt(r.sizeVariance);
      // In log2 space: `threshold` deviations and at least minFactor times the typical size.
      if (x - r.sizeMean >= Math.max(config.threshold * sd, Math.log2(config.minFactor))) {
        report('payload-size', method, route, 'response bytes', bytes, Math.round(typical), undefined);
      }
    }
    if (r.sizeSamples === 0) r.sizeMean = x;
    else {
      const diff = x - r.sizeMean;
      const incr = SIZE_ALPHA * diff;
      r.sizeMean += incr;
      r.sizeVariance = (1 - SIZE_ALPHA) * (r.sizeVariance + diff * incr);
    }
    r.sizeSamples++;
  }
}

function checkRate(w: RateWindow, config: AnomalyConfig, method: string, route: string, measure: string, report: Report): void {
  if (w.fired || w.windows < MIN_RATE_WINDOWS || w.count < config.minBurstRequests || w.count < (config.minBurstRate * w.width) / 1000) return;
  const sd = Math.sqrt(w.variance);
  if (w.count >= w.mean * config.minFactor && w.count >= w.mean + config.threshold * sd && w.count >= Math.max(w.peak, config.minBurstRequests) * config.peakFactor) {
    w.fired = true;
    report('rate', method, route, measure, w.count, w.mean, sd);
  }
}
