import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { noopObserver } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { counterValue, exchange, mtlsConnect, testAuthorizer } from './fixtures/pki-pair.ts';
import { TestPki, type IssuedLeaf } from './fixtures/pki-mesh.ts';

const TD = 'example.org';
const REFUSED = 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_SIDECAR_SOURCE_NOT_ALLOWED"}';

let pki: TestPki;
let client: IssuedLeaf;
let app: Server;
let appHits = 0;
const servers: { inbound: ProxyServer; metrics: Registry }[] = [];

async function start(allowedSourceCidrs: readonly string[]): Promise<{ inbound: ProxyServer; metrics: Registry }> {
  const server = await pki.svid('shop', 'orders');
  const creds = new CredentialsRef();
  creds.swap(buildCredentials({ certChainPem: server.certChainPem, privateKey: server.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  const metrics = new Registry();
  const inbound = await startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
    tcpPorts: new Set(),
    credentials: creds,
    trustDomains: new Set([TD]),
    authorizer: () => testAuthorizer(() => true),
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer: noopObserver,
    metrics,
    logger: silentLogger(),
    allowedSourceCidrs,
  });
  servers.push({ inbound, metrics });
  return { inbound, metrics };
}

/** Connects with a valid SVID: resolves 'secure' once the handshake completes, or 'closed' if the server drops it first. */
function handshake(port: number): Promise<'secure' | 'closed'> {
  return new Promise((resolve) => {
    const socket = mtlsConnect(port, client, pki.bundlePem);
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('secure');
    });
    socket.once('close', () => resolve('closed'));
  });
}

beforeAll(async () => {
  pki = await TestPki.create(TD);
  client = await pki.svid('shop', 'frontend');
  app = createServer((_req, res) => {
    appHits++;
    res.end('ok');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of servers) await s.inbound.close();
  await new Promise<void>((r) => app.close(() => r()));
});

describe('inbound.allowedSourceCidrs', () => {
  it('a source outside the allow list is refused before the TLS handshake, and counted', async () => {
    const { inbound, metrics } = await start(['10.0.0.0/8', 'fd00::/8']);
    expect(await handshake(inbound.address.port)).toBe('closed');
    expect(await handshake(inbound.address.port)).toBe('closed');
    expect(counterValue(metrics, REFUSED)).toBe(2);
    expect(counterValue(metrics, 'ztmesh_sidecar_connections_total{direction="inbound"}')).toBe(0);
    expect(appHits).toBe(0);
  });

  it('a source inside the allow list is served', async () => {
    const { inbound, metrics } = await start(['127.0.0.0/8']);
    const socket = mtlsConnect(inbound.address.port, client, pki.bundlePem);
    const out = await exchange(socket, 'GET /x HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(counterValue(metrics, REFUSED)).toBe(0);
    expect(appHits).toBe(1);
  });
});
