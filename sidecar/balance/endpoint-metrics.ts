import type { CounterChild, HistogramChild, Registry, Counter, Histogram } from '../../core/telemetry/metrics.ts';

/** Series caps: endpoint labels are bounded by the configured endpoints, capped regardless. */
const MAX_ENDPOINT_SERIES = 2000;

/** The balancer's metrics, registered once per outbound server. */
export class EndpointMetrics {
  readonly requests: Counter;
  readonly latency: Histogram;
  readonly ejections: Counter;
  readonly retries: Counter;
  readonly endpointRetries: Counter;
  readonly timeouts: Counter;
  readonly budgetExhausted: Counter;

  constructor(registry: Registry) {
    this.requests = registry.counter({
      name: 'ztmesh_endpoint_requests_total',
      help: 'Outbound HTTP requests per destination endpoint, by response status class (1xx..5xx, or "error" when no response).',
      labelNames: ['service', 'endpoint', 'status_class'],
      maxSeries: MAX_ENDPOINT_SERIES * 6,
    });
    this.latency = registry.histogram({
      name: 'ztmesh_endpoint_latency_seconds',
      help: 'Time from sending an outbound request to its first response byte, per destination endpoint.',
      labelNames: ['service', 'endpoint'],
      maxSeries: MAX_ENDPOINT_SERIES,
    });
    this.ejections = registry.counter({
      name: 'ztmesh_endpoint_ejections_total',
      help: 'Times a destination endpoint was taken out of rotation after connect failures, a wrong identity or consecutive gateway errors (502/503/504).',
      labelNames: ['service', 'endpoint'],
      maxSeries: MAX_ENDPOINT_SERIES,
    });
    this.retries = registry.counter({
      name: 'ztmesh_retries_total',
      help: 'Outbound requests retried on another endpoint, by reason (connect_failure, wrong_identity, refused_stream, gateway_error, reset).',
      labelNames: ['service', 'reason'],
      maxSeries: 1000,
    });
    this.endpointRetries = registry.counter({
      name: 'ztmesh_endpoint_retries_total',
      help: 'Outbound attempts retried elsewhere, by the endpoint the failed attempt went to and reason (connect_failure, wrong_identity, refused_stream, gateway_error, reset).',
      labelNames: ['service', 'endpoint', 'reason'],
      maxSeries: MAX_ENDPOINT_SERIES * 5,
    });
    this.timeouts = registry.counter({
      name: 'ztmesh_endpoint_timeouts_total',
      help: 'Outbound requests answered 504 ZTMESH_BALANCE_TIMEOUT, by the endpoint that did not answer in time.',
      labelNames: ['service', 'endpoint'],
      maxSeries: MAX_ENDPOINT_SERIES,
    });
    this.budgetExhausted = registry.counter({
      name: 'ztmesh_retry_budget_exhausted_total',
      help: 'Retries not made because the service retry budget was spent (the failure went to the caller).',
      labelNames: ['service'],
      maxSeries: 1000,
    });
  }
}

/** Reasons an attempt is retried on another endpoint (the `reason` label). */
export type RetryLabel = 'connect_failure' | 'wrong_identity' | 'refused_stream' | 'gateway_error' | 'reset';

const CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** One endpoint's bound series (label values resolved once, not per request). */
export class EndpointSeries {
  readonly byClass: readonly CounterChild[];
  readonly latency: HistogramChild;
  readonly ejections: CounterChild;
  readonly timeouts: CounterChild;
  readonly #metrics: EndpointMetrics;
  readonly #service: string;
  readonly #endpoint: string;

  constructor(m: EndpointMetrics, service: string, endpoint: string) {
    this.byClass = CLASSES.map((c) => m.requests.labels(service, endpoint, c));
    this.latency = m.latency.labels(service, endpoint);
    this.ejections = m.ejections.labels(service, endpoint);
    this.timeouts = m.timeouts.labels(service, endpoint);
    this.#metrics = m;
    this.#service = service;
    this.#endpoint = endpoint;
  }

  /** Counts a retry away from this endpoint (per endpoint, and per service as ztmesh_retries_total). */
  retried(reason: RetryLabel): void {
    this.#metrics.endpointRetries.labels(this.#service, this.#endpoint, reason).inc();
    this.#metrics.retries.labels(this.#service, reason).inc();
  }
}
