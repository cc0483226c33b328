import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { createTracing, type TracingSetup } from '../../core/telemetry/tracing-setup.ts';
import type { SamplingPolicy } from '../../core/telemetry/trace-sampling.ts';
import { parseAuditLine } from '../../core/policy/audit-record.ts';
import { createRequestObserver } from './create-request-observer.ts';
import { allow, deny, fakeRequestInfo } from './fake-request-info.ts';

const SELF = 'spiffe://mesh.test/ns/shop/sa/items';
const PEER = 'spiffe://mesh.test/ns/web/sa/frontend';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const OK = { status: 200, errorCode: undefined, requestBytes: 10, responseBytes: 20 };

function lines(): { write(s: string): void; lines: Record<string, unknown>[]; text: () => string } {
  const raw: string[] = [];
  return {
    write: (s: string) => void raw.push(s),
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}

async function tracing(registry: Registry, sampling: SamplingPolicy, exporter = new InMemorySpanExporter()): Promise<{ setup: TracingSetup; exporter: InMemorySpanExporter }> {
  const setup = await createTracing(
    { protocol: 'grpc', url: 'http://unused:1', serviceName: 'items', resourceAttributes: {}, sampling, batch: { scheduledDelayMillis: 60_000, exportTimeoutMillis: 1000, maxQueueSize: 10_000, maxExportBatchSize: 512 } },
    { registry, scope: 'ztmesh-sidecar', exporter },
  );
  return { setup, exporter };
}

function observer(opts: { tracing?: TracingSetup; sampleAllowed?: number; registry?: Registry; audit?: ReturnType<typeof lines>; log?: ReturnType<typeof lines>; headers?: () => readonly string[] } = {}) {
  const registry = opts.registry ?? new Registry();
  const log = opts.log ?? lines();
  const o = createRequestObserver({
    registry,
    logger: createLogger({ name: 'sidecar', level: 'warn', destination: log }),
    audit: { sampleAllowed: opts.sampleAllowed ?? 0, ...(opts.audit ? { destination: opts.audit } : {}), ...(opts.headers ? { headers: opts.headers } : {}) },
    tracing: opts.tracing,
    workload: { namespace: 'shop', labels: { app: 'items' }, identity: () => SELF },
  });
  return { o, registry, log };
}

describe('request metrics', () => {
  it('counts requests by identity, bounded method, status class and decision, and denials by policy', () => {
    const { o, registry } = observer();
    o.start(fakeRequestInfo({ decision: allow() })).end(OK);
    o.start(fakeRequestInfo({ decision: allow() })).end(OK);
    o.start(fakeRequestInfo({ method: 'BREW', path: '/coffee/123', decision: deny() })).end({ ...OK, status: 403, errorCode: 'ZTMESH_AUTHZ_DENIED' });
    o.start(fakeRequestInfo({ decision: deny(null, null) })).end({ ...OK, status: 403 });
    o.start(fakeRequestInfo({ direction: 'outbound', sourcePrincipal: undefined, service: 'orders' })).end({ ...OK, status: 429, errorCode: 'ZTMESH_RATELIMIT_EXCEEDED' });
    o.setPolicyVersion('v7');
    const text = registry.render();
    expect(text).toContain(`ztmesh_requests_total{direction="inbound",source_identity="${PEER}",destination_identity="${SELF}",method="GET",status_class="2xx",decision="ALLOW"} 2`);
    expect(text).toContain(`ztmesh_requests_total{direction="inbound",source_identity="${PEER}",destination_identity="${SELF}",method="other",status_class="4xx",decision="DENY"} 1`);
    expect(text).toContain(`ztmesh_requests_total{direction="outbound",source_identity="${SELF}",destination_identity="${SELF}",method="GET",status_class="4xx",decision="none"} 1`);
    expect(text).toContain(`ztmesh_request_duration_seconds_count{direction="inbound",destination_identity="${SELF}",status_class="2xx"} 2`);
    expect(text).toContain('ztmesh_denials_total{policy="shop/deny-admin"} 1');
    expect(text).toContain('ztmesh_denials_total{policy="none"} 1');
    expect(text).toContain(`ztmesh_rate_limited_total{direction="outbound",source_identity="${SELF}",destination_identity="${SELF}"} 1`);
    expect(text).toContain('ztmesh_policy_version{version="v7"} 1');
    expect(text).not.toContain('/coffee');
    expect(text).not.toContain('10.1.2.3');
    o.setPolicyVersion('v8');
    expect(registry.render()).not.toContain('version="v7"');
  });

  it('logs and counts what dry-run policies would have decided', () => {
    const log = lines();
    const registry = new Registry();
    const o = createRequestObserver({
      registry,
      logger: createLogger({ name: 'sidecar', level: 'info', destination: log }),
      audit: { sampleAllowed: 0 },
      tracing: undefined,
      workload: { namespace: 'shop', labels: {}, identity: () => SELF },
    });
    o.start(fakeRequestInfo({ decision: { ...allow(), dryRun: [{ policy: 'shop/candidate', decision: 'DENY' }] } })).end(OK);
    expect(log.lines[0]).toMatchObject({ msg: 'dry-run policy decision', dryRun: [{ policy: 'shop/candidate', decision: 'DENY' }], enforced: { decision: 'ALLOW' }, path: '/api/items' });
    expect(registry.render()).toContain('ztmesh_dry_run_decisions_total{policy="shop/candidate",decision="DENY"} 1');
  });

  it('counts a scope ended twice once', () => {
    const { o, registry } = observer();
    const scope = o.start(fakeRequestInfo({ decision: allow() }));
    scope.end(OK);
    scope.end(OK);
    expect(registry.render()).toMatch(/decision="ALLOW"} 1\n/);
  });
});

describe('audit log', () => {
  it('records every DENY and AUDIT-marked request, ALLOWs only as sampled, in the audit line shape', () => {
    const audit = lines();
    const { o } = observer({ audit, sampleAllowed: 0 });
    o.start(fakeRequestInfo({ decision: allow() })).end(OK);
    o.start(fakeRequestInfo({ decision: allow('shop/audit-all', 0, true), method: 'POST', path: '/orders' })).end(OK);
    o.start(fakeRequestInfo({ decision: deny(), path: '/admin', headers: { 'user-agent': 'curl/8', traceparent: `00-${TRACE}-${PARENT}-01` } })).end({ ...OK, status: 403 });
    o.start(fakeRequestInfo({ direction: 'outbound' })).end(OK);
    expect(audit.lines.length).toBe(2);
    for (const line of audit.text().trim().split('\n')) expect(parseAuditLine(line).kind).toBe('audit');
    const [marked, denied] = audit.lines;
    expect(Object.keys(denied!)).toEqual(['type', 'time', 'source', 'destination', 'request', 'decision', 'policy', 'rule', 'reason', 'traceId']);
    expect(denied).toEqual({
      type: 'audit',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: { principal: PEER, ip: '10.1.2.3' },
      destination: { namespace: 'shop', labels: { app: 'items' }, port: 8080, host: 'items.shop.svc', principal: SELF },
      request: { method: 'GET', path: '/admin', headers: { 'user-agent': 'curl/8' }, requestPrincipal: null, claims: null },
      decision: 'DENY',
      policy: 'shop/deny-admin',
      rule: 0,
      reason: 'denied by DENY policy',
      traceId: TRACE,
    });
    expect(marked).toMatchObject({ decision: 'ALLOW', policy: 'shop/audit-all', request: { method: 'POST', path: '/orders' } });
  });

  it('records every ALLOW at sampleAllowed 1, and refuses a rate outside 0..1', () => {
    const audit = lines();
    const { o } = observer({ audit, sampleAllowed: 1 });
    for (let i = 0; i < 5; i++) o.start(fakeRequestInfo({ decision: allow() })).end(OK);
    expect(audit.lines.length).toBe(5);
    expect(() => observer({ sampleAllowed: 2 })).toThrow(expect.objectContaining({ code: 'ZTMESH_TELEMETRY_INVALID_OPTIONS' }));
  });

  it('never writes a secret: credentials headers and secret-named claims are redacted', () => {
    const headers = { authorization: 'Bearer SECRET123', cookie: 'session=SECRET123', 'x-api-key': 'SECRET123', 'x-session-token': 'SECRET123', 'user-agent': 'ua', 'x-tenant': 't1' };
    // As if the policies referenced every one of these headers: credentials are still left out.
    const referenced = () => Object.keys(headers);
    const claims = { sub: 'alice', access_token: 'SECRET123', nested: { client_secret: 'SECRET123', groups: ['a'] } };
    for (const dedicated of [true, false]) {
      const audit = lines();
      const log = lines();
      const { o } = observer({ audit: dedicated ? audit : undefined, log, sampleAllowed: 1, headers: referenced });
      const info = fakeRequestInfo({ decision: deny(), headers, claims, requestPrincipal: 'https://issuer/alice' });
      o.start(info).end({ ...OK, status: 403 });
      const out = dedicated ? audit.text() : log.text();
      expect(out).toContain('"type":"audit"');
      expect(out).not.toContain('SECRET123');
      const line = JSON.parse(out.trim()) as { request: { headers: Record<string, string>; claims: unknown; requestPrincipal: string } };
      expect(line.request.headers).toEqual({ 'user-agent': 'ua', 'x-tenant': 't1' });
      expect(parseAuditLine(out.trim()).kind).toBe('audit');
      expect(line.request.claims).toEqual({ sub: 'alice', access_token: '[redacted]', nested: { client_secret: '[redacted]', groups: ['a'] } });
      expect(line.request.requestPrincipal).toBe('https://issuer/alice');
    }
  });
});

describe('tracing', () => {
  it('makes a SERVER span joined to a valid incoming traceparent and forwards its own span id', async () => {
    const registry = new Registry();
    const { setup, exporter } = await tracing(registry, { root: 'always_off', ratio: 0, parentBased: true });
    const { o } = observer({ tracing: setup, registry });
    const scope = o.start(fakeRequestInfo({ decision: allow(), headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' } }));
    scope.end({ ...OK, status: 503 });
    await setup.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe(TRACE);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT);
    expect(scope.traceId).toBe(TRACE);
    expect(scope.forwardHeaders).toBe(`traceparent: 00-${TRACE}-${span?.spanContext().spanId}-01\r\ntracestate: congo=t61rcWkgMzE\r\n`);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/api/items',
      'http.response.status_code': 503,
      'ztmesh.source.principal': PEER,
      'ztmesh.destination.principal': SELF,
      'ztmesh.authz.decision': 'ALLOW',
      'ztmesh.authz.policy': 'shop/allow-frontend',
      'error.type': '503',
    });
  });

  it('does not sample under an unsampled parent, yet forwards a traceparent with flags 00 and no span', async () => {
    const registry = new Registry();
    const { setup, exporter } = await tracing(registry, { root: 'always_on', ratio: 1, parentBased: true });
    const { o } = observer({ tracing: setup, registry });
    const scope = o.start(fakeRequestInfo({ headers: { traceparent: `00-${TRACE}-${PARENT}-00` } }));
    scope.end(OK);
    await setup.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(scope.forwardHeaders).toBe(`traceparent: 00-${TRACE}-${PARENT}-00\r\n`);
  });

  it('starts a new trace on a malformed traceparent and never forwards it', async () => {
    const registry = new Registry();
    const { setup, exporter } = await tracing(registry, { root: 'always_on', ratio: 1, parentBased: true });
    const { o } = observer({ tracing: setup, registry });
    const bad = `00-${'0'.repeat(32)}-${PARENT}-01`;
    const scope = o.start(fakeRequestInfo({ headers: { traceparent: bad, tracestate: 'a=1' } }));
    scope.end(OK);
    await setup.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(scope.traceId).toBe(span?.spanContext().traceId);
    expect(scope.forwardHeaders).toMatch(/^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01\r\n$/);
    expect(scope.forwardHeaders).not.toContain(bad);
  });

  it('accepts B3 on input (single and multi) and outputs W3C from a CLIENT span on outbound', async () => {
    const registry = new Registry();
    const { setup, exporter } = await tracing(registry, { root: 'always_off', ratio: 0, parentBased: true });
    const { o } = observer({ tracing: setup, registry });
    o.start(fakeRequestInfo({ direction: 'outbound', service: 'orders', headers: { b3: `${TRACE}-${PARENT}-1` } })).end(OK);
    const multi = o.start(fakeRequestInfo({ headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': PARENT, 'x-b3-sampled': '1' } }));
    multi.end(OK);
    await setup.forceFlush();
    const [client, server] = exporter.getFinishedSpans();
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(client?.spanContext().traceId).toBe(TRACE);
    expect(client?.attributes['ztmesh.service']).toBe('orders');
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(multi.forwardHeaders).toMatch(/^traceparent: 00-0000000000000000a3ce929d0e0e4736-[0-9a-f]{16}-01\r\n$/);
  });

  it('with tracing off, passes a valid context through re-serialized and drops a malformed one', () => {
    const { o } = observer();
    expect(o.start(fakeRequestInfo({ headers: { traceparent: `00-${TRACE}-${PARENT}-01` } })).forwardHeaders).toBe(`traceparent: 00-${TRACE}-${PARENT}-01\r\n`);
    expect(o.start(fakeRequestInfo({ headers: { traceparent: `00-${TRACE}-${PARENT}-01\r\nx-evil: 1` } })).forwardHeaders).toBe('');
  });

  it('samples root traces at the configured ratio, consistent with the trace id it forwards', async () => {
    const registry = new Registry();
    const { setup, exporter } = await tracing(registry, { root: 'traceidratio', ratio: 0.1, parentBased: true });
    const { o } = observer({ tracing: setup, registry });
    let sampledHeaders = 0;
    for (let i = 0; i < 2000; i++) {
      const scope = o.start(fakeRequestInfo());
      if (scope.forwardHeaders.endsWith('-01\r\n')) sampledHeaders++;
      scope.end(OK);
    }
    await setup.forceFlush();
    expect(exporter.getFinishedSpans().length).toBe(sampledHeaders);
    expect(sampledHeaders).toBeGreaterThan(120);
    expect(sampledHeaders).toBeLessThan(280);
  });
});

describe('RequestInfo implemented as a class (as the data plane does)', () => {
  class ClassInfo {
    readonly direction = 'inbound' as const;
    readonly method = 'GET';
    readonly path = '/x';
    readonly host = undefined;
    readonly sourcePrincipal = PEER;
    readonly destinationPrincipal = SELF;
    readonly service = undefined;
    readonly sourceIp = '10.0.0.1';
    readonly destinationPort = 80;
    readonly traceparent = undefined;
    readonly tracestate = undefined;
    readonly b3 = undefined;
    readonly decision = deny();
    readonly #headers = new Map([['x-b3-traceid', TRACE], ['x-b3-spanid', PARENT], ['x-b3-sampled', '1'], ['authorization', 'Bearer SECRET123']]);
    header(name: string): string | undefined {
      return this.#headers.get(name);
    }
  }

  it('calls header() as a method (regression: a detached call lost `this`)', () => {
    const audit = lines();
    const { o } = observer({ audit });
    const scope = o.start(new ClassInfo());
    scope.end({ ...OK, status: 403 });
    expect(scope.forwardHeaders).toBe(`traceparent: 00-${TRACE}-${PARENT}-01\r\n`);
    expect(audit.text()).not.toContain('SECRET123');
  });
});
