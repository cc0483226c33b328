import { type Context, ROOT_CONTEXT, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Counter, Registry } from './metrics.ts';
import { BoundedBatchSpanProcessor } from './bounded-batch-processor.ts';
import { TraceIdSource } from './trace-ids.ts';
import type { SamplingPolicy } from './trace-sampling.ts';
import type { TracingConfig } from './tracing-config.ts';

/**
 * What a program that traces holds: a tracer whose spans go through a bounded batch queue to an
 * OTLP exporter, the sampling policy (decided by callers before a span exists), and the id source
 * the tracer draws from. The SDK's own sampler is always-on: a span is only started once the
 * caller decided to record it.
 */
export interface TracingSetup {
  readonly tracer: Tracer;
  readonly sampling: SamplingPolicy;
  readonly ids: TraceIdSource;
  /**
   * The context a span starts in: the root, or a remote parent from an incoming trace context.
   * Here rather than in the data plane so that a program with tracing off never loads the API.
   */
  parentContext(parent: RemoteParent | undefined): Context;
  /** Exports everything queued so far. */
  forceFlush(): Promise<void>;
  /** Flushes and stops the exporter; spans ended afterwards are discarded. */
  shutdown(): Promise<void>;
}

/** A caller's span context, from a `traceparent` (or B3) header. */
export interface RemoteParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
}

function parentContext(parent: RemoteParent | undefined): Context {
  if (parent === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
    traceState: parent.traceState === undefined ? undefined : new TraceState(parent.traceState),
  });
}

export interface TracingOptions {
  /** Where `ztmesh_telemetry_spans_dropped_total{reason}` is counted. */
  readonly registry: Registry;
  /** Instrumentation scope name, e.g. "ztmesh-sidecar". */
  readonly scope: string;
  /** Replaces the OTLP exporter the config names (tests, benchmarks). */
  readonly exporter?: SpanExporter;
}

const DROPPED_METRIC = 'ztmesh_telemetry_spans_dropped_total';

async function otlpExporter(config: TracingConfig): Promise<SpanExporter> {
  // Loaded on demand: a program with tracing off never loads gRPC.
  if (config.protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url: config.url, timeoutMillis: config.batch.exportTimeoutMillis });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: config.url, timeoutMillis: config.batch.exportTimeoutMillis });
}

function droppedCounter(registry: Registry): Counter {
  const existing = registry.get(DROPPED_METRIC);
  if (existing !== undefined) return existing as Counter;
  return registry.counter({
    name: DROPPED_METRIC,
    help: 'Finished spans dropped instead of exported, by reason (queue_full: the export queue was full; export_failed: the collector failed or timed out).',
    labelNames: ['reason'],
    maxSeries: 4,
  });
}

/** Builds the tracer provider, exporter and bounded batch processor for `config`. */
export async function createTracing(config: TracingConfig, options: TracingOptions): Promise<TracingSetup> {
  const exporter = options.exporter ?? (await otlpExporter(config));
  const dropped = droppedCounter(options.registry);
  const queueFull = dropped.labels('queue_full');
  const exportFailed = dropped.labels('export_failed');
  const processor = new BoundedBatchSpanProcessor(exporter, config.batch, (reason, count) => (reason === 'queue_full' ? queueFull : exportFailed).inc(count));
  const ids = new TraceIdSource();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    sampler: new AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: [processor],
  });
  return Object.freeze({
    tracer: provider.getTracer(options.scope),
    sampling: config.sampling,
    ids,
    parentContext,
    forceFlush: () => processor.forceFlush(),
    shutdown: () => provider.shutdown(),
  });
}
