import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../errors/mesh-error.ts';
import { withSpan } from './tracing.ts';

describe('withSpan', () => {
  it('runs fn without a tracer and hands it a context', async () => {
    expect(await withSpan(undefined, 'x', {}, (ctx) => (trace.getSpan(ctx) === undefined ? 'no span' : 'span'))).toBe('no span');
  });

  it('records the stable error code, never the message, and rethrows', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
    const failing = withSpan(tracer, 'operator.admission', { 'k8s.namespace.name': 'shop' }, () => {
      throw new MeshError('ZTMESH_INJECT_BAD_POD', 'pod secret-name-123 is malformed');
    }, { kind: 'server' });
    await expect(failing).rejects.toMatchObject({ code: 'ZTMESH_INJECT_BAD_POD' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toEqual({ 'k8s.namespace.name': 'shop', 'error.type': 'ZTMESH_INJECT_BAD_POD' });
    expect(span?.status.code).toBe(2);
    expect(span?.status.message).toBeUndefined();
    expect(span?.kind).toBe(1);
  });
});
