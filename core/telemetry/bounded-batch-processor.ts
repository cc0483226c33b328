import { context, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { BatchSettings } from './tracing-config.ts';

export type SpanDropReason = 'queue_full' | 'export_failed';

/**
 * A batch span processor on a bounded queue that never makes a request wait: `onEnd` is an array
 * push, or a counted drop when the queue is full; export runs from a timer, one batch at a time,
 * each under a timeout. Spans in a batch that fails or times out are counted as dropped too, so
 * an unreachable collector shows up in `onDrop` and nowhere on the request path. (OTel's own
 * BatchSpanProcessor drops the same way but only reports it to its diagnostic logger.)
 */
export class BoundedBatchSpanProcessor implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #settings: BatchSettings;
  readonly #onDrop: (reason: SpanDropReason, count: number) => void;
  #queue: ReadableSpan[] = [];
  #timer: NodeJS.Timeout | undefined = undefined;
  #exporting: Promise<void> | undefined = undefined;
  #shutdown = false;

  constructor(exporter: SpanExporter, settings: BatchSettings, onDrop: (reason: SpanDropReason, count: number) => void) {
    this.#exporter = exporter;
    this.#settings = settings;
    this.#onDrop = onDrop;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutdown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#queue.length >= this.#settings.maxQueueSize) {
      this.#onDrop('queue_full', 1);
      return;
    }
    this.#queue.push(span);
    if (this.#exporting !== undefined) return; // the running export loop picks it up
    if (this.#queue.length >= this.#settings.maxExportBatchSize) this.#startExport();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#startExport();
      }, this.#settings.scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Exports everything queued so far; resolves when done (failures are counted, not thrown). */
  async forceFlush(): Promise<void> {
    while (this.#exporting !== undefined || this.#queue.length > 0) {
      if (this.#exporting === undefined) this.#startExport();
      await this.#exporting;
    }
  }

  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    await this.forceFlush();
    this.#shutdown = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#exporter.shutdown();
  }

  #startExport(): void {
    if (this.#exporting !== undefined || this.#queue.length === 0) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#exporting = this.#exportLoop().finally(() => {
      this.#exporting = undefined;
      // Spans that arrived while the last batch was in flight wait for the next tick of the timer.
      if (this.#queue.length > 0 && !this.#shutdown && this.#timer === undefined) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#startExport();
        }, this.#queue.length >= this.#settings.maxExportBatchSize ? 0 : this.#settings.scheduledDelayMillis);
        this.#timer.unref();
      }
    });
  }

  async #exportLoop(): Promise<void> {
    const batch = this.#queue.splice(0, this.#settings.maxExportBatchSize);
    const ok = await this.#exportBatch(batch);
    if (!ok) this.#onDrop('export_failed', batch.length);
  }

  #exportBatch(batch: ReadableSpan[]): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve(false);
      }, this.#settings.exportTimeoutMillis);
      timer.unref();
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      try {
        // Never trace the exporter's own I/O.
        context.with(suppressTracing(context.active()), () => {
          this.#exporter.export(batch, (result) => done(result.code === ExportResultCode.SUCCESS));
        });
      } catch {
        done(false);
      }
    });
  }
}
