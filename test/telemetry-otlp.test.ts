import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import { createTracing, type TracingSetup } from '../core/telemetry/tracing-setup.ts';
import { withSpan } from '../core/telemetry/tracing.ts';
import { createRequestObserver } from '../sidecar/telemetry/create-request-observer.ts';
import { allow, fakeRequestInfo } from '../sidecar/telemetry/fake-request-info.ts';
import { freePort } from '../bench/harness/free-port.ts';
import { startOtlpReceiver, type OtlpReceiver } from './fixtures/otlp-receiver.ts';
import { anomalyConfig } from '../sidecar/anomaly/anomaly-config.ts';
import { AnomalyDetector } from '../sidecar/anomaly/anomaly-detector.ts';
import { composeObservers } from '../sidecar/telemetry/compose-observers.ts';

// Spans travel over a real OTLP connection (gRPC or HTTP/protobuf) to a receiver that decodes the protobuf.

const CLIENT_ID = 'spiffe://mesh.test/ns/web/sa/frontend';
const SERVER_ID = 'spiffe://mesh.test/ns/shop/sa/items';
const OK = { status: 200, errorCode: undefined, requestBytes: 5, responseBytes: 42 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function tracingTo(receiver: OtlpReceiver | { protocol: 'grpc' | 'http/protobuf'; url: string }, registry: Registry, service: string, extraEnv: Record<string, string> = {}): Promise<TracingSetup> {
  const config = tracingConfigFromEnv(
    {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: receiver.protocol,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: service,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      ...extraEnv,
    },
    'unused',
  );
  const setup = await createTracing(config!, { registry, scope: 'ztmesh-sidecar' });
  cleanups.push(() => setup.shutdown());
  return setup;
}

function sidecar(registry: Registry, tracing: TracingSetup, self: string) {
  return createRequestObserver({
    registry,
    logger: createLogger({ name: 'sidecar', level: 'silent' }),
    audit: { sampleAllowed: 0 },
    tracing,
    workload: { namespace: 'shop', labels: { app: 'x' }, identity: () => self },
  });
}

/** The traceparent value out of a scope's forward headers. */
const traceparentOf = (forward: string): string => /^traceparent: (\S+)\r\n/.exec(forward)![1]!;

describe.each(['grpc', 'http/protobuf'] as const)('OTLP over %s', (protocol) => {
  it('exports connected CLIENT and SERVER spans of two sidecars with their attributes', async () => {
    const receiver = await startOtlpReceiver(protocol);
    cleanups.push(() => receiver.close());
    const outboundRegistry = new Registry();
    const inboundRegistry = new Registry();
    const outbound = sidecar(outboundRegistry, await tracingTo(receiver, outboundRegistry, 'frontend'), CLIENT_ID);
    const inbound = sidecar(inboundRegistry, await tracingTo(receiver, inboundRegistry, 'items'), SERVER_ID);

    const client = outbound.start(fakeRequestInfo({ direction: 'outbound', sourcePrincipal: CLIENT_ID, destinationPrincipal: SERVER_ID, service: 'items.shop', method: 'POST', path: '/orders' }));
    const server = inbound.start(
      fakeRequestInfo({ sourcePrincipal: CLIENT_ID, destinationPrincipal: SERVER_ID, method: 'POST', path: '/orders', decision: allow('shop/allow-frontend', 2), headers: { traceparent: traceparentOf(client.forwardHeaders) } }),
    );
    const appTraceparent = traceparentOf(server.forwardHeaders);
    server.end(OK);
    client.end(OK);

    const spans = await receiver.waitForSpans(2);
    const c = spans.find((s) => s.kind === 3)!;
    const s = spans.find((x) => x.kind === 2)!;
    expect(c.traceId).toBe(s.traceId);
    expect(c.parentSpanId).toBeUndefined();
    expect(s.parentSpanId).toBe(c.spanId);
    expect(appTraceparent).toBe(`00-${s.traceId}-${s.spanId}-01`);
    expect(client.traceId).toBe(c.traceId);
    expect(c.resource['service.name']).toBe('frontend');
    expect(s.resource['service.name']).toBe('items');
    expect(s.scope).toBe('ztmesh-sidecar');
    expect(c.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/orders', 'ztmesh.service': 'items.shop', 'ztmesh.destination.principal': SERVER_ID });
    expect(s.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/orders',
      'http.response.status_code': 200,
      'http.request.size': 5,
      'http.response.size': 42,
      'ztmesh.source.principal': CLIENT_ID,
      'ztmesh.destination.principal': SERVER_ID,
      'ztmesh.authz.decision': 'ALLOW',
      'ztmesh.authz.policy': 'shop/allow-frontend',
      'ztmesh.authz.rule': 2,
    });
    expect(s.endTimeUnixNano).toBeGreaterThanOrEqual(s.startTimeUnixNano);
  });

  it('exports nested withSpan spans (CA issuance, operator admission) as one tree, with the error code on failure', async () => {
    const receiver = await startOtlpReceiver(protocol);
    cleanups.push(() => receiver.close());
    const registry = new Registry();
    const { tracer } = await tracingTo(receiver, registry, 'ztmesh-ca');
    await withSpan(tracer, 'ca.issue', { 'ztmesh.spiffe_id': SERVER_ID }, async (ctx) => {
      await withSpan(tracer, 'ca.sign', {}, () => 'signed', { parent: ctx });
      await expect(withSpan(tracer, 'ca.validate', {}, () => Promise.reject(Object.assign(new Error('bad'), { code: 'ZTMESH_CA_X' })), { parent: ctx })).rejects.toThrow('bad');
    });
    const spans = await receiver.waitForSpans(3);
    const issue = spans.find((x) => x.name === 'ca.issue')!;
    const sign = spans.find((x) => x.name === 'ca.sign')!;
    const validate = spans.find((x) => x.name === 'ca.validate')!;
    expect(issue.attributes['ztmesh.spiffe_id']).toBe(SERVER_ID);
    expect(sign.parentSpanId).toBe(issue.spanId);
    expect(validate.parentSpanId).toBe(issue.spanId);
    expect(validate.status).toBe(2);
    expect(validate.attributes['error.type']).toBe('ZTMESH_CA_X');
  });
});

describe('anomaly events over OTLP', () => {
  it('the SERVER span of the request that raised an anomaly carries a ztmesh.anomaly event', async () => {
    const receiver = await startOtlpReceiver('grpc');
    cleanups.push(() => receiver.close());
    const registry = new Registry();
    const detector = new AnomalyDetector({ config: anomalyConfig({ enabled: true, learningPeriod: 0, minLearningRequests: 3 }), logger: createLogger({ name: 'sidecar', level: 'silent' }), registry });
    const inbound = composeObservers(sidecar(registry, await tracingTo(receiver, registry, 'items'), SERVER_ID), detector);
    for (let i = 0; i < 5; i++) inbound.start(fakeRequestInfo({ sourcePrincipal: CLIENT_ID, destinationPrincipal: SERVER_ID, path: `/items/${i}` })).end(OK);
    inbound.start(fakeRequestInfo({ sourcePrincipal: CLIENT_ID, destinationPrincipal: SERVER_ID, method: 'DELETE', path: '/admin/users' })).end(OK);
    const spans = await receiver.waitForSpans(6);
    const raised = spans.filter((s) => s.events.length > 0);
    expect(raised.map((s) => s.attributes['url.path'])).toEqual(['/admin/users']);
    expect(raised[0]!.events).toEqual([{
      name: 'ztmesh.anomaly',
      attributes: expect.objectContaining({ 'ztmesh.anomaly.kind': 'new-route', 'ztmesh.anomaly.caller': CLIENT_ID, 'ztmesh.anomaly.route': 'DELETE /admin/users', 'ztmesh.anomaly.observed': expect.any(Number), 'ztmesh.anomaly.baseline': expect.any(Number) }),
    }]);
  });
});

describe('an unreachable or failing collector', () => {
  it.each([
    ['grpc', 'failing'],
    ['http/protobuf', 'failing'],
    ['grpc', 'unreachable'],
    ['http/protobuf', 'unreachable'],
  ] as const)('over %s, %s: requests complete, the lost spans are counted as dropped', async (protocol, mode) => {
    let target: { protocol: 'grpc' | 'http/protobuf'; url: string };
    if (mode === 'failing') {
      const receiver = await startOtlpReceiver(protocol, { fail: true });
      cleanups.push(() => receiver.close());
      target = receiver;
    } else {
      const port = await freePort(); // nothing listens there
      target = { protocol, url: protocol === 'grpc' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1/traces` };
    }
    const registry = new Registry();
    const setup = await tracingTo(target, registry, 'items', { OTEL_BSP_EXPORT_TIMEOUT: '500', OTEL_BSP_MAX_QUEUE_SIZE: '4' });
    const o = sidecar(registry, setup, SERVER_ID);
    for (let i = 0; i < 10; i++) o.start(fakeRequestInfo()).end(OK);
    await setup.forceFlush();
    const text = registry.render();
    const queueFull = Number(/ztmesh_telemetry_spans_dropped_total\{reason="queue_full"\} (\d+)/.exec(text)?.[1] ?? 0);
    const failed = Number(/ztmesh_telemetry_spans_dropped_total\{reason="export_failed"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(queueFull).toBeGreaterThan(0);
    expect(queueFull + failed).toBe(10);
    expect(text).toContain('ztmesh_requests_total{');
  });
});
