import type { CounterChild, Gauge, HistogramChild, Registry, Counter, Histogram } from '../../core/telemetry/metrics.ts';

/** The bounded set of method label values; anything else is "other". */
export const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'other'];
const STATUS_CLASSES: readonly string[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];
const DECISIONS: readonly string[] = ['ALLOW', 'DENY', 'none'];

/** Index into METHODS; methods are case-sensitive (RFC 9110), so `get` is "other". */
export function methodIndex(method: string): number {
  switch (method) {
    case 'GET': return 0;
    case 'HEAD': return 1;
    case 'POST': return 2;
    case 'PUT': return 3;
    case 'DELETE': return 4;
    case 'PATCH': return 5;
    case 'OPTIONS': return 6;
    case 'CONNECT': return 7;
    case 'TRACE': return 8;
    default: return 9;
  }
}

function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

function decisionIndex(decision: 'ALLOW' | 'DENY' | undefined): number {
  return decision === 'ALLOW' ? 0 : decision === 'DENY' ? 1 : 2;
}

/**
 * Cap on distinct (source, destination) pairs per direction. Past it, new pairs are recorded under
 * the identities "other": identities are bounded by the mesh, but a sidecar never lets its series
 * (or this cache) grow without bound.
 */
const MAX_PEERS = 1000;
const OTHER = 'other';
const MAX_CACHED_POLICIES = 1000;

/** Children bound for one (direction, source identity, destination identity). */
class PeerSeries {
  readonly direction: string;
  readonly source: string;
  readonly destination: string;
  readonly requests: (CounterChild | undefined)[] = new Array(METHODS.length * STATUS_CLASSES.length * DECISIONS.length).fill(undefined);
  readonly durations: (HistogramChild | undefined)[] = new Array(STATUS_CLASSES.length).fill(undefined);
  rateLimited: CounterChild | undefined = undefined;

  constructor(direction: string, source: string, destination: string) {
    this.direction = direction;
    this.source = source;
    this.destination = destination;
  }
}

/**
 * The sidecar's request metrics. Label children are bound once per distinct combination and kept
 * in small caches (nested maps keyed by identity, arrays indexed by method, status class and
 * decision), so recording a request is a few map lookups and field increments, with no string
 * building. Identities are bounded by the mesh; the registry caps series besides.
 */
export class RequestMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #denials: Counter;
  readonly #rateLimited: Counter;
  readonly #policyVersion: Gauge;
  readonly #peers = { inbound: new Map<string, Map<string, PeerSeries>>(), outbound: new Map<string, Map<string, PeerSeries>>() };
  readonly #peerCount = { inbound: 0, outbound: 0 };
  readonly #overflow = { inbound: new PeerSeries('inbound', OTHER, OTHER), outbound: new PeerSeries('outbound', OTHER, OTHER) };
  readonly #denialChildren = new Map<string, CounterChild>();
  readonly #dryRun: Counter;
  #currentPolicyVersion: string | undefined = undefined;

  constructor(registry: Registry) {
    this.#requests = registry.counter({
      name: 'ztmesh_requests_total',
      help: 'HTTP requests handled by the sidecar, by direction, source and destination SPIFFE ID, method, status class and authorization decision.',
      labelNames: ['direction', 'source_identity', 'destination_identity', 'method', 'status_class', 'decision'],
      maxSeries: 20_000,
    });
    this.#duration = registry.histogram({
      name: 'ztmesh_request_duration_seconds',
      help: 'Time from the request head to the end of the response, in seconds.',
      labelNames: ['direction', 'destination_identity', 'status_class'],
      maxSeries: 5_000,
    });
    this.#denials = registry.counter({ name: 'ztmesh_denials_total', help: 'Requests denied by authorization, by deciding policy (NS/NAME, or none when no policy matched).', labelNames: ['policy'], maxSeries: MAX_CACHED_POLICIES });
    this.#rateLimited = registry.counter({
      name: 'ztmesh_rate_limited_total',
      help: 'Requests refused with 429 by the sidecar rate limiter.',
      labelNames: ['direction', 'source_identity', 'destination_identity'],
      maxSeries: 5_000,
    });
    this.#dryRun = registry.counter({
      name: 'ztmesh_dry_run_decisions_total',
      help: 'Decisions dry-run policies would have made (not enforced), by policy (NS/NAME) and decision.',
      labelNames: ['policy', 'decision'],
      maxSeries: MAX_CACHED_POLICIES,
    });
    this.#policyVersion = registry.gauge({ name: 'ztmesh_policy_version', help: 'The policy snapshot in force (value 1 on the current version).', labelNames: ['version'], maxSeries: 2 });
  }

  /** The series bundle for a (direction, source, destination) triple. */
  peer(direction: 'inbound' | 'outbound', source: string, destination: string): PeerSeries {
    const bySource = this.#peers[direction];
    let byDestination = bySource.get(source);
    const found = byDestination?.get(destination);
    if (found !== undefined) return found;
    if (this.#peerCount[direction] >= MAX_PEERS) return this.#overflow[direction];
    const series = new PeerSeries(direction, source, destination);
    if (byDestination === undefined) {
      byDestination = new Map();
      bySource.set(source, byDestination);
    }
    byDestination.set(destination, series);
    this.#peerCount[direction]++;
    return series;
  }

  /** Records one finished request. `status` 0 (no response) counts as status class "other". */
  record(series: PeerSeries, method: string, status: number, decision: 'ALLOW' | 'DENY' | undefined, seconds: number): void {
    const m = methodIndex(method);
    const s = statusClassIndex(status);
    const d = decisionIndex(decision);
    const slot = (m * STATUS_CLASSES.length + s) * DECISIONS.length + d;
    let counter = series.requests[slot];
    if (counter === undefined) {
      counter = this.#requests.labels(series.direction, series.source, series.destination, METHODS[m]!, STATUS_CLASSES[s]!, DECISIONS[d]!);
      series.requests[slot] = counter;
    }
    counter.inc();
    let histogram = series.durations[s];
    if (histogram === undefined) {
      histogram = this.#duration.labels(series.direction, series.destination, STATUS_CLASSES[s]!);
      series.durations[s] = histogram;
    }
    histogram.observe(seconds);
  }

  /** Counts a denial by the deciding policy ("NS/NAME"), or "none" when no policy matched. */
  denied(policy: string | null): void {
    const key = policy ?? 'none';
    let child = this.#denialChildren.get(key);
    if (child === undefined) {
      child = this.#denials.labels(key);
      if (this.#denialChildren.size < MAX_CACHED_POLICIES) this.#denialChildren.set(key, child);
    }
    child.inc();
  }

  /** Counts what a dry-run policy would have decided (rare: no child cache). */
  dryRun(policy: string, decision: 'ALLOW' | 'DENY'): void {
    this.#dryRun.labels(policy, decision).inc();
  }

  rateLimited(series: PeerSeries): void {
    if (series.rateLimited === undefined) series.rateLimited = this.#rateLimited.labels(series.direction, series.source, series.destination);
    series.rateLimited.inc();
  }

  /** Marks `version` as the policy snapshot in force (the previous version's series is removed). */
  setPolicyVersion(version: string): void {
    if (version === this.#currentPolicyVersion) return;
    if (this.#currentPolicyVersion !== undefined) this.#policyVersion.remove(this.#currentPolicyVersion);
    this.#currentPolicyVersion = version;
    this.#policyVersion.labels(version).set(1);
  }
}

export type { PeerSeries };
