import type { CounterChild, HistogramChild, Registry, Counter, Histogram } from '../../core/telemetry/metrics.ts';

/** Series caps: endpoint labels are bounded by the configured endpoints, capped regardless. */
const MAX_ENDPOINT_SERIES = 2000;

/** The balancer's metrics, registered once per outbound server. */
export class EndpointMetrics {
  readonly requests: Counter;
  readonly latency: Histogram;
  readonly ejections: Counter;
  readonly retries: Counter;

  constructor(registry: Registry) {
    this.requests = registry.counter({
      name: 'ztmesh_endpoint_requests_total',
      help: 'Outbound HTTP/1.1 requests per destination endpoint, by response status class (1xx..5xx, or "error" when no response).',
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
      help: 'Times a destination endpoint was taken out of rotation after connect failures or a wrong identity.',
      labelNames: ['service', 'endpoint'],
      maxSeries: MAX_ENDPOINT_SERIES,
    });
    this.retries = registry.counter({
      name: 'ztmesh_retries_total',
      help: 'Outbound requests moved to another endpoint, by reason (connect_failure, wrong_identity).',
      labelNames: ['service', 'reason'],
      maxSeries: 1000,
    });
  }
}

const CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** One endpoint's bound series (label values resolved once, not per request). */
export class EndpointSeries {
  readonly byClass: readonly CounterChild[];
  readonly latency: HistogramChild;
  readonly ejections: CounterChild;

  constructor(m: EndpointMetrics, service: string, endpoint: string) {
    this.byClass = CLASSES.map((c) => m.requests.labels(service, endpoint, c));
    this.latency = m.latency.labels(service, endpoint);
    this.ejections = m.ejections.labels(service, endpoint);
  }
}
