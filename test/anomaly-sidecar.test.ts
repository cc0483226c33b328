import { createServer, get as httpGet, type Server } from 'node:http';
import { anomaliesHandler } from '../sidecar/anomaly/anomalies-handler.ts';
import { Agent, request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/telemetry/metrics.ts';
import { anomalyConfig } from '../sidecar/anomaly/anomaly-config.ts';
import { AnomalyDetector } from '../sidecar/anomaly/anomaly-detector.ts';
import { memoryLogger } from '../sidecar/anomaly/fake-log.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { composeObservers } from '../sidecar/telemetry/compose-observers.ts';
import { noopObserver } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { testAuthorizer } from './fixtures/pki-pair.ts';
import { TestPki } from './fixtures/pki-mesh.ts';

// The detector as the inbound sidecar's second observer: real mTLS traffic from a caller, first
// normal, then a credential-stuffing burst. The alert must name the verified SPIFFE ID, be counted,
// and (configured here) quarantine the caller, audit-logged.

const TD = 'example.org';
const BFF = `spiffe://${TD}/ns/shop/sa/mobile-bff`;
let app: Server;
let inbound: ProxyServer;
let agent: Agent;
const registry = new Registry();
const { logger, lines } = memoryLogger();
const detector = new AnomalyDetector({
  config: anomalyConfig({ enabled: true, learningPeriod: 0, minLearningRequests: 30, response: { action: 'quarantine', duration: '5m', kinds: ['auth-failures'] } }),
  logger,
  registry,
});

function call(method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: inbound.address.port, method, path, agent, headers: { host: 'users', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const pki = await TestPki.create(TD);
  const server = await pki.svid('shop', 'users');
  const client = await pki.svid('shop', 'mobile-bff');
  const creds = new CredentialsRef();
  creds.swap(buildCredentials({ certChainPem: server.certChainPem, privateKey: server.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  app = createServer((req, res) => {
    if (req.url === '/session' && req.method === 'POST') res.writeHead(req.headers['x-password'] === 'right' ? 201 : 401).end();
    else if (req.url?.startsWith('/users/')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  inbound = await startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
    tcpPorts: new Set(),
    credentials: creds,
    trustDomains: new Set([TD]),
    authorizer: () => testAuthorizer(() => true),
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer: composeObservers(noopObserver, detector),
    callerMeasures: detector.responder,
    metrics: new Registry(),
    logger: memoryLogger().logger,
  });
  agent = new Agent({ keepAlive: true, maxSockets: 2, cert: client.certChainPem, key: client.keyPem, ca: pki.bundlePem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
});

afterAll(async () => {
  agent?.destroy();
  await inbound?.close();
  await new Promise<void>((r) => app?.close(() => r()));
});

describe('anomaly detection behind a real inbound sidecar', () => {
  it('learns normal use without alerting, then flags and quarantines a credential-stuffing burst', async () => {
    for (let i = 0; i < 40; i++) {
      if (i % 8 === 0) expect(await call('POST', '/session', { 'x-password': 'right' })).toBe(201);
      expect(await call('GET', `/users/${i + 100}`)).toBe(200);
    }
    expect(lines().filter((l) => l['type'] === 'anomaly')).toEqual([]);

    let sent = 0;
    while (!detector.responder.isQuarantined(BFF) && sent < 40) {
      expect(await call('POST', '/session', { 'x-password': `guess${sent}` })).toBe(401);
      sent++;
    }
    expect(detector.responder.isQuarantined(BFF)).toBe(true);
    expect(sent).toBeLessThanOrEqual(30);
    const alert = lines().find((l) => l['type'] === 'anomaly' && l['kind'] === 'auth-failures')!;
    expect(alert).toMatchObject({ level: 'warn', caller: BFF, method: 'POST', route: '/session', measure: '401/403 share of recent requests' });
    expect(alert['observed'] as number).toBeGreaterThanOrEqual(0.5);
    expect(registry.render()).toContain('ztmesh_anomalies_total{kind="auth-failures"} 1');
    expect(lines().filter((l) => l['type'] === 'audit').map((l) => [l['event'], l['principal']])).toEqual([['anomaly-response-applied', BFF]]);
  });

  it('refuses the quarantined caller with 403 ZTMESH_ANOMALY_QUARANTINED before the app sees it, until released', async () => {
    expect(detector.responder.isQuarantined(BFF)).toBe(true);
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: inbound.address.port, method: 'GET', path: '/users/7', agent, headers: { host: 'users' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'ZTMESH_ANOMALY_QUARANTINED' } });
  });

  it('lists recent alerts and measures on /debug/anomalies', async () => {
    const admin = createServer(anomaliesHandler(detector));
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port: (admin.address() as { port: number }).port, path: '/debug/anomalies' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      const parsed = JSON.parse(body) as { anomalies: { kind: string; caller: string; time: string }[]; measures: { principal: string; action: string }[] };
      expect(parsed.anomalies[0]).toMatchObject({ kind: 'auth-failures', caller: BFF });
      expect(Number.isNaN(Date.parse(parsed.anomalies[0]!.time))).toBe(false);
      expect(parsed.measures).toMatchObject([{ principal: BFF, action: 'quarantine' }]);
    } finally {
      await new Promise<void>((r) => admin.close(() => r()));
    }
  });

  it('an operator can release the quarantine early; the caller is served again', async () => {
    expect(detector.responder.release(BFF, 'test')).toBe(true);
    expect(await call('GET', '/users/8')).toBe(200);
  });
});
