import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { noopObserver } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { exchange, mtlsConnect, testAuthorizer } from './fixtures/pki-pair.ts';
import { TestPki, type IssuedLeaf } from './fixtures/pki-mesh.ts';

const TD = 'example.org';

let pki: TestPki;
let client: IssuedLeaf;
let app: Server;
const received: { path: string; bytes: number }[] = [];
let inbound: ProxyServer;

beforeAll(async () => {
  pki = await TestPki.create(TD);
  client = await pki.svid('shop', 'frontend');
  const server = await pki.svid('shop', 'orders');
  app = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      received.push({ path: req.url ?? '', bytes });
      res.end('ok');
    });
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
    authorizer: () => testAuthorizer(() => true),
    peerAllowed: () => undefined,
    limits: { ...DEFAULT_HTTP1_LIMITS, maxBodyBytes: 10_000 },
    observer: noopObserver,
    metrics: new Registry(),
    logger: silentLogger(),
    bodyLimits: [{ pathPrefix: '/', maxBodyBytes: 1000 }, { pathPrefix: '/small', maxBodyBytes: 10 }, { pathPrefix: '/upload', maxBodyBytes: 5000 }, { pathPrefix: '/huge', maxBodyBytes: 1e9 }],
  });
});

afterAll(async () => {
  await inbound?.close();
  await new Promise<void>((r) => app.close(() => r()));
});

async function post(path: string, body: string, chunked = false): Promise<string> {
  const socket = mtlsConnect(inbound.address.port, client, pki.bundlePem);
  await new Promise<void>((r) => socket.once('secureConnect', () => r()));
  const framing = chunked ? `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : `Content-Length: ${body.length}\r\n\r\n${body}`;
  return exchange(socket, `POST ${path} HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n${framing}`);
}

const code = (out: string) => (JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code;

describe('inbound.bodyLimits', () => {
  it('a body over its route\'s limit gets 413 and never reaches the app (Content-Length and chunked)', async () => {
    const out = await post('/small/x', 'x'.repeat(11));
    expect(out).toMatch(/^HTTP\/1\.1 413 /);
    expect(code(out)).toBe('ZTMESH_SIDECAR_BODY_TOO_LARGE');
    const chunked = await post('/small/y', 'x'.repeat(11), true);
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.filter((r) => r.path.startsWith('/small'))).toEqual([]);
  });

  it('within the route limit it is forwarded; a longer prefix may allow more than a shorter one; limits.maxBodyBytes stays the ceiling', async () => {
    expect(await post('/small/ok', 'x'.repeat(10))).toMatch(/^HTTP\/1\.1 200 /);
    expect(await post('/upload/big', 'x'.repeat(3000))).toMatch(/^HTTP\/1\.1 200 /);
    expect(await post('/upload/big', 'x'.repeat(3000), true)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await post('/other', 'x'.repeat(1001))).toMatch(/^HTTP\/1\.1 413 /);
    expect(await post('/huge/x', 'x'.repeat(10_001))).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toEqual([{ path: '/small/ok', bytes: 10 }, { path: '/upload/big', bytes: 3000 }, { path: '/upload/big', bytes: 3000 }]);
  });
});
