import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { TestPki } from './fixtures/pki-mesh.ts';
import { KEY_USAGE } from './fixtures/pki-mesh.ts';
import { CLIENT_ID, TD, counterValue, exchange, mtlsConnect, plainConnect, startPair, type Pair } from './fixtures/pki-pair.ts';
import type { SpiffeId } from '../core/spiffe/spiffe-id.ts';

let app: Server;
let appPort: number;
let pair: Pair;
let otherPki: TestPki;

beforeAll(async () => {
  app = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as { port: number }).port;
  pair = await startPair({ app: { host: '127.0.0.1', port: appPort } });
  otherPki = await TestPki.create(TD);
});

afterAll(async () => {
  await pair.close();
  await new Promise<void>((r) => app.close(() => r()));
});

/** Resolves once the socket is closed: whether it got a response byte. */
function outcome(socket: import('node:net').Socket, send = 'GET / HTTP/1.1\r\nHost: orders\r\n\r\n'): Promise<{ data: string }> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('close', () => resolve({ data }));
    socket.write(send);
  });
}

async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

function handshakeFailures(reason: string): number {
  return counterValue(pair.inboundMetrics, `ztmesh_tls_handshake_failures_total{direction="inbound",reason="${reason}"}`);
}

describe('inbound mTLS refuses bad peers with a reason and a metric', () => {
  it('negotiates TLS 1.3 with the hybrid post-quantum group X25519MLKEM768', async () => {
    const socket = mtlsConnect(pair.inbound.address.port, pair.client, pair.pki.bundlePem);
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.getProtocol()).toBe('TLSv1.3');
    expect(socket.getEphemeralKeyInfo()).toMatchObject({ name: 'X25519MLKEM768' });
    socket.destroy();
  });

  it('plaintext HTTP', async () => {
    const res = await outcome(plainConnect(pair.inbound.address.port));
    expect(res.data).not.toContain('ok');
    expect(await waitFor(() => handshakeFailures('plaintext') > 0)).toBe(true);
  });

  it('TLS 1.2', async () => {
    const socket = mtlsConnect(pair.inbound.address.port, pair.client, pair.pki.bundlePem, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    const res = await outcome(socket);
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('protocol_version') > 0)).toBe(true);
  });

  it('no client certificate', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: pair.inbound.address.port, ca: pair.pki.bundlePem, checkServerIdentity: () => undefined });
    socket.on('error', () => undefined);
    const res = await outcome(socket);
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('no_client_cert') > 0)).toBe(true);
  });

  it('a certificate from another trust bundle', async () => {
    const leaf = await otherPki.svid('shop', 'frontend');
    const res = await outcome(mtlsConnect(pair.inbound.address.port, leaf, pair.pki.bundlePem));
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('untrusted_cert') > 0)).toBe(true);
  });

  it('an expired certificate', async () => {
    const leaf = await pair.pki.leaf({ uris: [CLIENT_ID], notBefore: Date.now() - 7_200_000, notAfter: Date.now() - 3_600_000 });
    const res = await outcome(mtlsConnect(pair.inbound.address.port, leaf, pair.pki.bundlePem));
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('cert_expired') > 0)).toBe(true);
  });

  it('a not-yet-valid certificate', async () => {
    const leaf = await pair.pki.leaf({ uris: [CLIENT_ID], notBefore: Date.now() + 3_600_000 });
    const res = await outcome(mtlsConnect(pair.inbound.address.port, leaf, pair.pki.bundlePem));
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('cert_not_yet_valid') > 0)).toBe(true);
  });

  it.each([
    ['a leaf that is a CA', { uris: [CLIENT_ID], ca: true, keyUsage: KEY_USAGE.digitalSignature }],
    ['a leaf with keyCertSign', { uris: [CLIENT_ID], keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign }],
    ['two URI SANs', { uris: [CLIENT_ID, 'spiffe://example.org/ns/shop/sa/other'] }],
    ['a non-SPIFFE URI', { uris: ['https://example.org/frontend'] }],
  ])('%s (SVID rules after the handshake)', async (_name, options) => {
    const before = handshakeFailures('bad_svid');
    const leaf = await pair.pki.leaf(options);
    const res = await outcome(mtlsConnect(pair.inbound.address.port, leaf, pair.pki.bundlePem));
    expect(res.data).toBe('');
    expect(await waitFor(() => handshakeFailures('bad_svid') > before)).toBe(true);
  });

  it('a denied peer, and closeWhere for open connections after a deny-list change', async () => {
    let denied = false;
    const p2 = await startPair({ app: { host: '127.0.0.1', port: appPort }, peerAllowed: () => (denied ? 'on the deny list' : undefined) }, pair.pki);
    try {
      const open = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      const first = await exchange(open, 'GET / HTTP/1.1\r\nHost: orders\r\n\r\n', 300);
      expect(first).toMatch(/^HTTP\/1\.1 200/);
      const kept = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      await new Promise((r) => kept.once('secureConnect', r));
      await waitFor(() => p2.inbound.connections() === 1);
      denied = true;
      expect(p2.inbound.closeWhere((peer) => peer.id === CLIENT_ID)).toBe(1);
      const res = await outcome(mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem));
      expect(res.data).toBe('');
      expect(await waitFor(() => counterValue(p2.inboundMetrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_SIDECAR_PEER_DENIED"}') > 0)).toBe(true);
    } finally {
      await p2.close();
    }
  });

  it('caps connections per peer identity', async () => {
    const p2 = await startPair({ app: { host: '127.0.0.1', port: appPort }, limits: { maxConnectionsPerPeer: 1 } }, pair.pki);
    try {
      const first = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      expect(await exchange(first, 'GET / HTTP/1.1\r\nHost: orders\r\n\r\n', 300)).toMatch(/^HTTP\/1\.1 200/);
      const kept = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      await new Promise((r) => kept.once('secureConnect', r));
      await waitFor(() => p2.inbound.connections() === 1);
      const second = await outcome(mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem));
      expect(second.data).toBe('');
      expect(counterValue(p2.inboundMetrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_SIDECAR_TOO_MANY_CONNECTIONS"}')).toBe(1);
      kept.destroy();
    } finally {
      await p2.close();
    }
  });

  it('rotation: new connections get the new certificate, open ones keep working', async () => {
    const p2 = await startPair({ app: { host: '127.0.0.1', port: appPort } }, pair.pki);
    try {
      const old = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      await new Promise((r) => old.once('secureConnect', r));
      const oldSerial = old.getPeerX509Certificate()!.serialNumber;
      const next = await p2.pki.svid('shop', 'orders');
      p2.serverCreds.swap(buildCredentials({ certChainPem: next.certChainPem, privateKey: next.keyPem, bundlePem: p2.pki.bundlePem, trustDomain: TD }));
      const fresh = mtlsConnect(p2.inbound.address.port, p2.client, p2.pki.bundlePem);
      await new Promise((r) => fresh.once('secureConnect', r));
      const freshSerial = fresh.getPeerX509Certificate()?.serialNumber;
      fresh.destroy();
      expect(freshSerial).not.toBe(oldSerial);
      expect(freshSerial).toBe(next.serial.replace(/^0+/, '').toUpperCase().padStart(2, '0'));
      expect(await exchange(old, 'GET / HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await p2.close();
    }
  });
});

describe('outbound and upstream failures', () => {
  it('refuses a server with the wrong identity: 502 ZTMESH_SIDECAR_WRONG_PEER_IDENTITY', async () => {
    const p2 = await startPair({ app: { host: '127.0.0.1', port: appPort }, expectIdentity: 'spiffe://example.org/ns/shop/sa/payments' as SpiffeId }, pair.pki);
    try {
      const raw = await exchange(plainConnect(p2.outbound.address.port), 'GET / HTTP/1.1\r\nHost: orders\r\n\r\n');
      expect(raw).toMatch(/^HTTP\/1\.1 502/);
      expect(raw).toContain('"code":"ZTMESH_SIDECAR_WRONG_PEER_IDENTITY"');
      expect(counterValue(p2.outboundMetrics, 'ztmesh_sidecar_refusals_total{direction="outbound",code="ZTMESH_SIDECAR_WRONG_PEER_IDENTITY"}')).toBe(1);
    } finally {
      await p2.close();
    }
  });

  it('answers 503 ZTMESH_SIDECAR_UPSTREAM_REFUSED when the app is down, and keeps the connection', async () => {
    const dead = createNetServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const p2 = await startPair({ app: { host: '127.0.0.1', port } }, pair.pki);
    try {
      const raw = await exchange(plainConnect(p2.outbound.address.port), 'GET / HTTP/1.1\r\nHost: orders\r\n\r\nGET /2 HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
      expect([...raw.matchAll(/"code":"(ZTMESH_[A-Z_]+)"/g)].map((m) => m[1])).toEqual(['ZTMESH_SIDECAR_UPSTREAM_REFUSED', 'ZTMESH_SIDECAR_UPSTREAM_REFUSED']);
      expect(raw).toMatch(/^HTTP\/1\.1 503/);
    } finally {
      await p2.close();
    }
  });

  it('answers 504 when the app stalls, and a stalled client body gets 408, both promptly', async () => {
    let stalled: NetServer | undefined;
    stalled = createNetServer((s) => s.on('error', () => undefined).resume()); // reads, never answers
    await new Promise<void>((r) => stalled!.listen(0, '127.0.0.1', r));
    const p2 = await startPair({ app: { host: '127.0.0.1', port: (stalled.address() as { port: number }).port }, limits: { upstreamTimeoutMs: 400, requestTimeoutMs: 400 } }, pair.pki);
    try {
      const t0 = Date.now();
      const raw = await exchange(plainConnect(p2.outbound.address.port), 'GET / HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n', 5000);
      expect(raw).toMatch(/^HTTP\/1\.1 504/);
      expect(raw).toContain('ZTMESH_SIDECAR_UPSTREAM_TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(4000);
      const slow = await exchange(plainConnect(p2.outbound.address.port), 'POST / HTTP/1.1\r\nHost: orders\r\nContent-Length: 10\r\n\r\nabc', 5000);
      expect(slow).toMatch(/^HTTP\/1\.1 408/);
      expect(slow).toContain('ZTMESH_SIDECAR_REQUEST_TIMEOUT');
    } finally {
      await p2.close();
      await new Promise<void>((r) => stalled!.close(() => r()));
    }
  });
});
