import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { BoundedBatchSpanProcessor, type SpanDropReason } from './bounded-batch-processor.ts';

/** A hand-written exporter: succeeds, fails, or never answers (a black-holed collector). */
class FakeExporter implements SpanExporter {
  readonly batches: string[][] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  shutdowns = 0;
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.batches.push(spans.map((s) => s.name));
    if (this.mode === 'ok') done({ code: ExportResultCode.SUCCESS });
    else if (this.mode === 'fail') done({ code: ExportResultCode.FAILED, error: new Error('collector down') });
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

function setup(settings: Partial<{ scheduledDelayMillis: number; exportTimeoutMillis: number; maxQueueSize: number; maxExportBatchSize: number }> = {}) {
  const exporter = new FakeExporter();
  const drops: Record<SpanDropReason, number> = { queue_full: 0, export_failed: 0 };
  const processor = new BoundedBatchSpanProcessor(
    exporter,
    { scheduledDelayMillis: 60_000, exportTimeoutMillis: 100, maxQueueSize: 10, maxExportBatchSize: 4, ...settings },
    (reason, n) => (drops[reason] += n),
  );
  const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('t');
  const span = (name: string) => tracer.startSpan(name).end();
  return { exporter, drops, processor, span };
}

describe('BoundedBatchSpanProcessor', () => {
  it('exports a full batch at once and the rest on flush, in order', async () => {
    const { exporter, processor, span } = setup();
    for (let i = 0; i < 6; i++) span(`s${i}`);
    await processor.forceFlush();
    expect(exporter.batches).toEqual([['s0', 's1', 's2', 's3'], ['s4', 's5']]);
  });

  it('drops and counts spans past the queue bound while an export hangs, and times the export out', async () => {
    const { exporter, drops, processor, span } = setup({ maxQueueSize: 5, maxExportBatchSize: 5 });
    exporter.mode = 'hang';
    for (let i = 0; i < 5; i++) span(`a${i}`); // fills a batch: the export starts and hangs
    for (let i = 0; i < 7; i++) span(`b${i}`); // 5 queue, 2 dropped
    expect(drops.queue_full).toBe(2);
    await processor.forceFlush(); // each batch times out after 100 ms
    expect(drops.export_failed).toBe(10);
    expect(exporter.batches.length).toBe(2);
  });

  it('counts the spans of a failed export as dropped', async () => {
    const { exporter, drops, processor, span } = setup();
    exporter.mode = 'fail';
    span('x');
    span('y');
    await processor.forceFlush();
    expect(drops.export_failed).toBe(2);
  });

  it('exports on the schedule without a flush', async () => {
    const { exporter, processor, span } = setup({ scheduledDelayMillis: 10 });
    span('timed');
    await new Promise<void>((resolve) => {
      const check = () => (exporter.batches.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(exporter.batches).toEqual([['timed']]);
    await processor.shutdown();
    expect(exporter.shutdowns).toBe(1);
    span('late');
    await processor.forceFlush();
    expect(exporter.batches).toEqual([['timed']]);
  });
});
