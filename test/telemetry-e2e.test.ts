import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditLine } from '../core/policy/audit-record.ts';
import type { Authorizer, Decision } from '../core/policy/decision.ts';
import { createLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import { createTracing, type TracingSetup } from '../core/telemetry/tracing-setup.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { startOutbound, type OutboundServer, type ServiceTarget } from '../sidecar/outbound/outbound-server.ts';
import { createRequestObserver } from '../sidecar/telemetry/create-request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import type { SpiffeId } from '../core/spiffe/spiffe-id.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fixtures/otlp-receiver.ts';
import { TestPki } from './fixtures/pki-mesh.ts';

// app <- inbound sidecar <- outbound sidecar <- client, in-process, each sidecar with the real
// request observer exporting over OTLP/gRPC to a receiver: one request is one connected trace.

const TD = 'example.org';
const SERVER_ID = `spiffe://${TD}/ns/shop/sa/orders` as SpiffeId;
const CLIENT_ID = `spiffe://${TD}/ns/shop/sa/frontend`;

/** Denies /admin (policy shop/deny-admin, rule 0), allows the rest. */
const authorizer: Authorizer = {
  version: 'e2e-1',
  evaluate(a): Decision {
    if (a.path === '/admin') return { decision: 'DENY', policy: 'shop/deny-admin', rule: 0, reason: 'denied by DENY policy', audit: false, dryRun: [] };
    return { decision: 'ALLOW', policy: 'shop/allow-frontend', rule: 0, reason: 'allowed by ALLOW policy', audit: false, dryRun: [] };
  },
};

class Capture {
  text = '';
  write(s: string): void {
    this.text += s;
  }
}

let app: Server;
const appSaw: IncomingHttpHeaders[] = [];
let receiver: OtlpReceiver;
let inbound: ProxyServer;
let outbound: OutboundServer;
const tracings: TracingSetup[] = [];
const inboundRegistry = new Registry();
const inboundLog = new Capture();
const inboundAudit = new Capture();

async function tracingFor(service: string, registry: Registry): Promise<TracingSetup> {
  const config = tracingConfigFromEnv(
    { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '20' },
    'unused',
  );
  const setup = await createTracing(config!, { registry, scope: 'ztmesh-sidecar' });
  tracings.push(setup);
  return setup;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver('grpc');
  app = createServer((req, res) => {
    appSaw.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appPort = (app.address() as { port: number }).port;

  const pki = await TestPki.create(TD);
  const serverLeaf = await pki.svid('shop', 'orders');
  const clientLeaf = await pki.svid('shop', 'frontend');
  const serverCreds = new CredentialsRef();
  serverCreds.swap(buildCredentials({ certChainPem: serverLeaf.certChainPem, privateKey: serverLeaf.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  const clientCreds = new CredentialsRef();
  clientCreds.swap(buildCredentials({ certChainPem: clientLeaf.certChainPem, privateKey: clientLeaf.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));

  const inboundLogger = createLogger({ name: 'sidecar', level: 'info', destination: inboundLog });
  inbound = await startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: appPort },
    tcpPorts: new Set(),
    credentials: serverCreds,
    trustDomains: new Set([TD]),
    authorizer: () => authorizer,
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer: createRequestObserver({
      registry: inboundRegistry,
      logger: inboundLogger,
      audit: { sampleAllowed: 1, destination: inboundAudit, headers: ['authorization', 'cookie', 'user-agent'] },
      tracing: await tracingFor('orders', inboundRegistry),
      workload: { namespace: 'shop', labels: { app: 'orders' }, identity: () => serverCreds.current?.identity },
    }),
    metrics: inboundRegistry,
    logger: inboundLogger,
  });

  const outboundRegistry = new Registry();
  const outboundLogger = createLogger({ name: 'sidecar', level: 'info', destination: inboundLog });
  const services = new Map<string, ServiceTarget>([['orders', { name: 'orders', identity: SERVER_ID, endpoints: [inbound.address], protocol: 'http' }]]);
  outbound = await startOutbound({
    listen: { host: '127.0.0.1', port: 0 },
    services,
    credentials: clientCreds,
    trustDomains: new Set([TD]),
    limits: DEFAULT_HTTP1_LIMITS,
    observer: createRequestObserver({
      registry: outboundRegistry,
      logger: outboundLogger,
      audit: { sampleAllowed: 0 },
      tracing: await tracingFor('frontend', outboundRegistry),
      workload: { namespace: 'shop', labels: { app: 'frontend' }, identity: () => clientCreds.current?.identity },
    }),
    metrics: outboundRegistry,
    logger: outboundLogger,
  });
});

afterAll(async () => {
  await outbound?.close();
  await inbound?.close();
  for (const t of tracings) await t.shutdown();
  await receiver?.close();
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
});

function call(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: outbound.address.port, path, headers: { host: 'orders', connection: 'close', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The spans of one trace, waiting until `n` of them arrived. */
async function traceSpans(traceId: string, n: number): Promise<ReceivedSpan[]> {
  for (;;) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (spans.length >= n) return spans;
    await receiver.waitForSpans(receiver.spanCount + 1);
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('one request across two sidecars and the app', () => {
  it('is one connected trace: outbound CLIENT span -> inbound SERVER span -> the app gets the inbound span as parent', async () => {
    appSaw.length = 0;
    expect(await call('/orders/17')).toBe(200);
    const seen = appSaw[0]!['traceparent'] as string;
    const [, traceId, parentOfApp] = TRACEPARENT.exec(seen)!;
    const spans = await traceSpans(traceId!, 2);
    const client = spans.find((s) => s.kind === 3)!;
    const server = spans.find((s) => s.kind === 2)!;
    expect(client.parentSpanId).toBeUndefined();
    expect(server.parentSpanId).toBe(client.spanId);
    expect(parentOfApp).toBe(server.spanId);
    expect(client.resource['service.name']).toBe('frontend');
    expect(server.resource['service.name']).toBe('orders');
    expect(client.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/orders/17', 'ztmesh.destination.principal': SERVER_ID, 'ztmesh.service': 'orders', 'http.response.status_code': 200 });
    expect(server.attributes).toMatchObject({
      'url.path': '/orders/17',
      'ztmesh.source.principal': CLIENT_ID,
      'ztmesh.destination.principal': SERVER_ID,
      'ztmesh.authz.decision': 'ALLOW',
      'ztmesh.authz.policy': 'shop/allow-frontend',
      'http.response.status_code': 200,
    });
    expect(server.attributes['http.response.size']).toBeGreaterThan(2); // head and the 2-byte body
  });

  it('continues the caller trace from a valid traceparent, and from B3', async () => {
    appSaw.length = 0;
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await call('/a', { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` });
    await call('/b', { b3: `a3ce929d0e0e47364bf92f3577b34da6-00f067aa0ba902b7-1` });
    expect(TRACEPARENT.exec(appSaw[0]!['traceparent'] as string)?.[1]).toBe(callerTrace);
    expect(TRACEPARENT.exec(appSaw[1]!['traceparent'] as string)?.[1]).toBe('a3ce929d0e0e47364bf92f3577b34da6');
    expect(appSaw[1]!['b3']).toBeUndefined();
    const spans = await traceSpans(callerTrace, 2);
    expect(spans.find((s) => s.kind === 3)?.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('ignores a malformed traceparent: a new trace starts and the bad header never reaches the app', async () => {
    appSaw.length = 0;
    const bad = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';
    await call('/c', { traceparent: bad, tracestate: 'k=v' });
    const got = appSaw[0]!['traceparent'] as string;
    expect(got).toMatch(TRACEPARENT);
    expect(got).not.toBe(bad);
    expect(appSaw[0]!['tracestate']).toBeUndefined();
  });

  it('audits the denied request without ever logging its credentials, and counts it', async () => {
    expect(await call('/admin', { authorization: 'Bearer SECRET123', cookie: 'session=SECRET123', 'user-agent': 'e2e' })).toBe(403);
    expect(inboundAudit.text).not.toContain('SECRET123');
    expect(inboundLog.text).not.toContain('SECRET123');
    const records = inboundAudit.text.trim().split('\n').map(parseAuditLine);
    const denied = records.find((r) => r.kind === 'audit' && r.record.decision === 'DENY');
    expect(denied).toMatchObject({
      kind: 'audit',
      record: {
        source: { principal: CLIENT_ID, ip: '127.0.0.1' },
        destination: { namespace: 'shop', principal: SERVER_ID },
        request: { method: 'GET', path: '/admin', headers: { 'user-agent': 'e2e' } },
        policy: 'shop/deny-admin',
        rule: 0,
      },
    });
    expect(denied?.kind === 'audit' && denied.record.traceId).toMatch(/^[0-9a-f]{32}$/);
    const text = inboundRegistry.render();
    expect(text).toContain(`ztmesh_requests_total{direction="inbound",source_identity="${CLIENT_ID}",destination_identity="${SERVER_ID}",method="GET",status_class="4xx",decision="DENY"} 1`);
    expect(text).toContain('ztmesh_denials_total{policy="shop/deny-admin"} 1');
  });
});
