import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { createTracing } from '../../core/telemetry/tracing-setup.ts';
import { composeObservers } from '../telemetry/compose-observers.ts';
import { createRequestObserver } from '../telemetry/create-request-observer.ts';
import { fakeRequestInfo } from '../telemetry/fake-request-info.ts';
import { anomalyConfig } from './anomaly-config.ts';
import { ANOMALY_EVENT, AnomalyDetector } from './anomaly-detector.ts';
import { memoryLogger } from './fake-log.ts';

// The detector composed after the sidecar's telemetry observer, as sidecar/main.ts wires them:
// an alert becomes an event on the span of the request that raised it.

const CALLER = 'spiffe://mesh.test/ns/web/sa/frontend';
const OK = { status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 100 };

async function mesh(root: 'always_on' | 'always_off') {
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const tracing = await createTracing(
    { protocol: 'grpc', url: 'http://unused:1', serviceName: 'items', resourceAttributes: {}, sampling: { root, ratio: 1, parentBased: true }, batch: { scheduledDelayMillis: 60_000, exportTimeoutMillis: 1000, maxQueueSize: 10_000, maxExportBatchSize: 512 } },
    { registry, scope: 'ztmesh-sidecar', exporter },
  );
  const telemetry = createRequestObserver({
    registry,
    logger: createLogger({ name: 'sidecar', level: 'silent' }),
    audit: { sampleAllowed: 0 },
    tracing,
    workload: { namespace: 'shop', labels: { app: 'items' }, identity: () => 'spiffe://mesh.test/ns/shop/sa/items' },
  });
  const detector = new AnomalyDetector({ config: anomalyConfig({ enabled: true, learningPeriod: 0, minLearningRequests: 5 }), logger: memoryLogger().logger, registry });
  return { observer: composeObservers(telemetry, detector), exporter, tracing, detector };
}

describe('anomaly span events', () => {
  it('adds ztmesh.anomaly with kind, caller, observed and baseline to the span of the request that raised it', async () => {
    const { observer, exporter, tracing } = await mesh('always_on');
    for (let i = 0; i < 10; i++) observer.start(fakeRequestInfo({ path: `/items/${i}`, sourcePrincipal: CALLER })).end(OK);
    observer.start(fakeRequestInfo({ method: 'GET', path: '/export/all', sourcePrincipal: CALLER })).end(OK);
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(11);
    const withEvents = spans.filter((s) => s.events.length > 0);
    expect(withEvents.map((s) => s.attributes['url.path'])).toEqual(['/export/all']);
    const event = withEvents[0]!.events[0]!;
    expect(event.name).toBe(ANOMALY_EVENT);
    expect(event.attributes).toMatchObject({
      'ztmesh.anomaly.kind': 'new-route',
      'ztmesh.anomaly.caller': CALLER,
      'ztmesh.anomaly.route': 'GET /export/all',
      'ztmesh.anomaly.observed': expect.any(Number),
      'ztmesh.anomaly.baseline': expect.any(Number),
    });
    await tracing.shutdown();
  });

  it('adds nothing when the request is not sampled, and the detector still alerts', async () => {
    const { observer, exporter, tracing, detector } = await mesh('always_off');
    for (let i = 0; i < 10; i++) observer.start(fakeRequestInfo({ path: `/items/${i}`, sourcePrincipal: CALLER })).end(OK);
    observer.start(fakeRequestInfo({ path: '/export/all', sourcePrincipal: CALLER })).end(OK);
    await tracing.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(detector.recent().map((a) => [a.kind, a.route])).toEqual([['new-route', '/export/all']]);
    await tracing.shutdown();
  });
});
