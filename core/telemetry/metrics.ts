/**
 * A small Prometheus registry built for the hot path: label values are bound once (`labels(...)`
 * returns a cached child whose `inc`/`observe` is a field update), and the text exposition is
 * rendered only when scraped. Label sets are bounded by construction: callers pass identities,
 * methods, status classes and policy names, never raw paths or IPs; each metric also caps its
 * number of children and counts what it drops (`ztmesh_metrics_dropped_series_total`).
 */

const MAX_CHILDREN_DEFAULT = 2000;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: string): string {
  if (names.length === 0 && extra === undefined) return '';
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(extra);
  return `{${parts.join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

abstract class Metric<Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly children = new Map<string, { values: readonly string[]; child: Child }>();
  readonly #maxChildren: number;
  readonly #overflow: Child;
  #onDrop: () => void = () => {};

  constructor(name: string, help: string, labelNames: readonly string[], maxChildren: number) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.#maxChildren = maxChildren;
    this.#overflow = this.newChild();
  }

  protected abstract newChild(): Child;
  abstract render(): string;

  /** @internal */
  setDropHandler(handler: () => void): void {
    this.#onDrop = handler;
  }

  /** The child for these label values, created on first use; past the cap, a detached child (counted as dropped). */
  labels(...values: string[]): Child {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    const found = this.children.get(key);
    if (found !== undefined) return found.child;
    if (this.children.size >= this.#maxChildren) {
      this.#onDrop();
      return this.#overflow;
    }
    const child = this.newChild();
    this.children.set(key, { values: [...values], child });
    return child;
  }

  /** Forgets one series (e.g. a peer that went away). */
  remove(...values: string[]): void {
    this.children.delete(values.join('\u0000'));
  }

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help.replace(/\n/g, ' ')}\n# TYPE ${this.name} ${type}\n`;
  }
}

export class CounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class Counter extends Metric<CounterChild> {
  protected newChild(): CounterChild {
    return new CounterChild();
  }
  inc(n = 1): void {
    this.labels().inc(n);
  }
  render(): string {
    let out = this.header('counter');
    for (const { values, child } of this.children.values()) {
      out += `${this.name}${renderLabels(this.labelNames, values)} ${formatNumber(child.value)}\n`;
    }
    return out;
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class Gauge extends Metric<GaugeChild> {
  protected newChild(): GaugeChild {
    return new GaugeChild();
  }
  set(v: number): void {
    this.labels().set(v);
  }
  inc(n = 1): void {
    this.labels().inc(n);
  }
  dec(n = 1): void {
    this.labels().dec(n);
  }
  render(): string {
    let out = this.header('gauge');
    for (const { values, child } of this.children.values()) {
      out += `${this.name}${renderLabels(this.labelNames, values)} ${formatNumber(child.value)}\n`;
    }
    return out;
  }
}

export class HistogramChild {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** Default latency buckets in seconds: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram extends Metric<HistogramChild> {
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[], maxChildren: number) {
    // `buckets` must be set before the base constructor builds the overflow child.
    super(name, help, labelNames, maxChildren);
    this.buckets = buckets;
  }
  protected newChild(): HistogramChild {
    return new HistogramChild(this.buckets ?? LATENCY_BUCKETS);
  }
  observe(v: number): void {
    this.labels().observe(v);
  }
  render(): string {
    let out = this.header('histogram');
    for (const { values, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < child.bounds.length; i++) {
        cumulative += child.counts[i]!;
        out += `${this.name}_bucket${renderLabels(this.labelNames, values, `le="${formatNumber(child.bounds[i]!)}"`)} ${cumulative}\n`;
      }
      out += `${this.name}_bucket${renderLabels(this.labelNames, values, 'le="+Inf"')} ${child.count}\n`;
      out += `${this.name}_sum${renderLabels(this.labelNames, values)} ${formatNumber(child.sum)}\n`;
      out += `${this.name}_count${renderLabels(this.labelNames, values)} ${child.count}\n`;
    }
    return out;
  }
}

type AnyMetric = Counter | Gauge | Histogram;

export interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  /** Cap on distinct label sets; past it observations go to a detached series and are counted as dropped. */
  readonly maxSeries?: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class Registry {
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #dropped: Counter;
  /** Functions run just before rendering, to refresh gauges computed on demand (e.g. cert expiry). */
  readonly #collectors: (() => void)[] = [];

  constructor() {
    this.#dropped = new Counter('ztmesh_metrics_dropped_series_total', 'Observations dropped because a metric reached its series cap.', ['metric'], 1000);
    this.#metrics.set(this.#dropped.name, this.#dropped);
  }

  counter(options: MetricOptions): Counter {
    return this.#register(new Counter(options.name, options.help, this.#labels(options), options.maxSeries ?? MAX_CHILDREN_DEFAULT));
  }

  gauge(options: MetricOptions): Gauge {
    return this.#register(new Gauge(options.name, options.help, this.#labels(options), options.maxSeries ?? MAX_CHILDREN_DEFAULT));
  }

  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): Histogram {
    return this.#register(new Histogram(options.name, options.help, this.#labels(options), options.buckets ?? LATENCY_BUCKETS, options.maxSeries ?? MAX_CHILDREN_DEFAULT));
  }

  /** Registers a function that refreshes on-demand values before each scrape. */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  get(name: string): AnyMetric | undefined {
    return this.#metrics.get(name);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    for (const fn of this.#collectors) fn();
    let out = '';
    for (const metric of this.#metrics.values()) out += metric.render();
    return out;
  }

  #labels(options: MetricOptions): readonly string[] {
    if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name ${options.name}`);
    const names = options.labelNames ?? [];
    for (const label of names) if (!LABEL_NAME.test(label)) throw new Error(`invalid label name ${label} on ${options.name}`);
    return names;
  }

  #register<M extends AnyMetric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    metric.setDropHandler(() => this.#dropped.labels(metric.name).inc());
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
