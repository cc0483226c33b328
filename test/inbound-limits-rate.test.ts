import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitConfigSchema, type RateLimitConfig } from '../core/policy/rate-limit-config.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import type { RequestInfo, RequestObserver, RequestOutcome } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { counterValue, testAuthorizer } from './fixtures/pki-pair.ts';
import { TestPki, type IssuedLeaf } from './fixtures/pki-mesh.ts';

const TD = 'example.org';

class OutcomeLog implements RequestObserver {
  readonly outcomes: { principal: string | undefined; path: string; outcome?: RequestOutcome }[] = [];
  start(info: RequestInfo) {
    const entry: { principal: string | undefined; path: string; outcome?: RequestOutcome } = { principal: info.sourcePrincipal, path: info.path };
    this.outcomes.push(entry);
    return { forwardHeaders: '', traceId: undefined, end: (o: RequestOutcome) => void (entry.outcome = o) };
  }
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let pki: TestPki;
let frontend: IssuedLeaf;
let billing: IssuedLeaf;
let app: Server;
let appHits = 0;
let inbound: ProxyServer;
const metrics = new Registry();
const observer = new OutcomeLog();
// A burst of 3, refilled so slowly that no token comes back during the test.
let config: RateLimitConfig = rateLimitConfigSchema.parse({
  perPrincipal: { requestsPerSecond: 0.01, burst: 3 },
  routes: [{ name: 'reports', pathPrefix: '/reports', limit: { requestsPerSecond: 0.01, burst: 1 } }],
});

function get(leaf: IssuedLeaf, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: inbound.address.port, path, cert: leaf.certChainPem, key: leaf.keyPem, ca: pki.bundlePem, checkServerIdentity: () => undefined, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const code = (r: Reply) => (JSON.parse(r.body) as { error: { code: string } }).error.code;

beforeAll(async () => {
  pki = await TestPki.create(TD);
  frontend = await pki.svid('shop', 'frontend');
  billing = await pki.svid('shop', 'billing');
  const server = await pki.svid('shop', 'orders');
  app = createServer((_req, res) => {
    appHits++;
    res.end('ok');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const creds = new CredentialsRef();
  creds.swap(buildCredentials({ certChainPem: server.certChainPem, privateKey: server.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  inbound = await startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
    tcpPorts: new Set(),
    credentials: creds,
    trustDomains: new Set([TD]),
    authorizer: () => testAuthorizer((a) => a.path !== '/forbidden'),
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer,
    metrics,
    logger: silentLogger(),
    rateLimit: () => config,
  });
});

afterAll(async () => {
  await inbound?.close();
  await new Promise<void>((r) => app.close(() => r()));
});

describe('inbound rate limits', () => {
  it('after the burst: 429 with Retry-After and the IETF RateLimit headers, never forwarded; other callers unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await get(frontend, `/orders/${i}`)).status).toBe(200);
    const hits = appHits;
    const refused = await get(frontend, '/orders/9');
    expect(refused.status).toBe(429);
    expect(code(refused)).toBe('ZTMESH_RATELIMIT_EXCEEDED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-policy']).toBe('"principal";q=3;w=300');
    expect(refused.headers['ratelimit']).toMatch(/^"principal";r=0;t=\d+$/);
    expect(appHits).toBe(hits);
    // Counted by the observer outcome (request metrics) and the refusal metric.
    expect(observer.outcomes.at(-1)!.outcome).toMatchObject({ status: 429, errorCode: 'ZTMESH_RATELIMIT_EXCEEDED' });
    expect(counterValue(metrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_RATELIMIT_EXCEEDED"}')).toBe(1);
    // Another principal has its own bucket; a configured route has its own bucket too.
    expect((await get(billing, '/orders/1')).status).toBe(200);
    expect((await get(frontend, '/reports/daily')).status).toBe(200);
    const route = await get(frontend, '/reports/weekly');
    expect(route.status).toBe(429);
    expect(route.headers['ratelimit-policy']).toBe('"reports";q=1;w=100');
  });

  it('a request the policy denies takes no token from the caller\'s budget', async () => {
    for (let i = 0; i < 5; i++) expect((await get(billing, '/forbidden')).status).toBe(403);
    // billing used 1 of 3 above: two more are allowed, then 429.
    expect((await get(billing, '/orders/2')).status).toBe(200);
    expect((await get(billing, '/orders/3')).status).toBe(200);
    expect((await get(billing, '/orders/4')).status).toBe(429);
  });

  it('HTTP/2 streams share the buckets and get the same 429', async () => {
    const session = h2connect(`https://127.0.0.1:${inbound.address.port}`, { cert: frontend.certChainPem, key: frontend.keyPem, ca: pki.bundlePem, checkServerIdentity: () => undefined });
    session.on('error', () => undefined);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const stream = session.request({ ':path': '/orders/h2' });
      let head: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => void (head = h as Record<string, string | string[] | undefined>));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString() }));
      stream.on('error', reject);
      stream.end();
    });
    session.close();
    expect(reply.status).toBe(429);
    expect(code(reply)).toBe('ZTMESH_RATELIMIT_EXCEEDED');
    expect(reply.headers['retry-after']).toBeDefined();
    expect(reply.headers['ratelimit-policy']).toBe('"principal";q=3;w=300');
  });

  it('a reloaded mesh config with rate limits disabled lets everything through', async () => {
    config = rateLimitConfigSchema.parse({ enabled: false });
    expect((await get(frontend, '/orders/10')).status).toBe(200);
  });
});
