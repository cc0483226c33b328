import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyRing, sealKeyFromBase64 } from '../../core/seal/seal-key.ts';
import { createLogger, type Logger, silentLogger } from '../../core/telemetry/logger.ts';
import { CallerAuthenticator } from '../authn/caller-authenticator.ts';
import { JoinTokenStore } from '../authn/join-token-store.ts';
import { fetchBundle, requestSvid } from '../client/ca-client.ts';
import { createTestCa, type TestCa } from '../testing/test-ca.ts';
import { generateP256 } from '../keys/p256-keys.ts';
import { x509 } from '../x509-lib.ts';
import { caServiceDefinition } from './ca-proto.ts';
import { type RunningCaServer, startCaServer } from './ca-server.ts';

/** A SignCertificate call with a hand-made request, to send what the client library never would. */
function rawSign(address: string, bundlePem: string, csr: Buffer, token: string): Promise<number> {
  const Client = caServiceDefinition();
  const client = new Client(address, grpc.credentials.createSsl(Buffer.from(bundlePem), null, null, { checkServerIdentity: () => undefined }), {
    'grpc.ssl_target_name_override': 'ztmesh-ca',
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    (client as unknown as Record<string, (...a: unknown[]) => void>)['SignCertificate']!.call(client, { csr, ttl: '' }, metadata, (err: grpc.ServiceError | null) => {
      client.close();
      resolve(err === null ? status.OK : err.code);
    });
  });
}

async function csrFor(names: x509.JsonGeneralName[]): Promise<Buffer> {
  const keys = await generateP256();
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions: [new x509.SubjectAlternativeNameExtension(names)] });
  return Buffer.from(req.rawData);
}

const TD = 'ca-server.test';

function auditSink(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ name: 'audit', level: 'info', destination: stream }), lines };
}

async function grpcCodeOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return (err as { details?: { grpcCode?: number } }).details?.grpcCode;
  }
  return 'no error';
}

describe('CA gRPC server', () => {
  let ca: TestCa;
  let server: RunningCaServer;
  let tokens: JoinTokenStore;
  const spans = (() => {
    const exporter = new InMemorySpanExporter();
    return { exporter, provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) };
  })();
  let address: string;
  const audit = auditSink();

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD });
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-ca-server-'));
    tokens = new JoinTokenStore({ file: join(dir, 'tokens.sealed'), ring: keyRing([sealKeyFromBase64(randomBytes(32).toString('base64'), 'test')]) });
    const authenticator = new CallerAuthenticator({ authority: ca.authority, joinTokens: tokens });
    server = await startCaServer({ authority: ca.authority, authenticator, listen: '127.0.0.1:0', logger: silentLogger(), audit: audit.logger, tracer: spans.provider.getTracer('ca-test') });
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('issues an SVID for a join token, with the token\'s SPIFFE ID, and audit-logs it without the token', async () => {
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/frontend`, 600_000);
    const svid = await requestSvid({ address, bundlePem: ca.bundlePem, token, ttl: '30m' });
    expect(svid.spiffeId).toBe(`spiffe://${TD}/ns/web/sa/frontend`);
    expect(svid.notAfter - svid.notBefore).toBeLessThanOrEqual(30 * 60_000 + 60_000);
    const leaf = new X509Certificate(svid.certChainPem);
    expect(leaf.subjectAltName).toBe(`URI:spiffe://${TD}/ns/web/sa/frontend`);
    expect(leaf.checkPrivateKey(svid.privateKey)).toBe(true);
    const line = audit.lines.find((l) => l['serial'] === leaf.serialNumber);
    expect(line).toMatchObject({ audit: 'ca.issue', result: 'issued', caller: 'join-token', spiffeId: svid.spiffeId });
    expect(JSON.stringify(audit.lines)).not.toContain(token);
  });

  it('traces each issuance and refusal as a SERVER span with the identity, never the token', async () => {
    spans.exporter.reset();
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/traced`, 600_000);
    await requestSvid({ address, bundlePem: ca.bundlePem, token });
    await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token }));
    const [issued, refused] = spans.exporter.getFinishedSpans();
    expect(issued).toMatchObject({ name: 'ca.SignCertificate', kind: SpanKind.SERVER, attributes: { 'ztmesh.spiffe_id': `spiffe://${TD}/ns/web/sa/traced`, 'ztmesh.ca.caller': 'join-token' } });
    expect(refused!.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused!.attributes['error.type']).toMatch(/^ZTMESH_CA_/);
    expect(JSON.stringify(spans.exporter.getFinishedSpans().map((s) => s.attributes))).not.toContain(token);
  });

  it('refuses a reused join token with UNAUTHENTICATED', async () => {
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/once`, 600_000);
    await requestSvid({ address, bundlePem: ca.bundlePem, token });
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token }))).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a caller with no credential, and keeps serving others', async () => {
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem }))).toBe(status.UNAUTHENTICATED);
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token: 'ztjt_forged' }))).toBe(status.UNAUTHENTICATED);
    expect(audit.lines.some((l) => l['result'] === 'refused' && l['caller'] === 'unauthenticated')).toBe(true);
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/after`, 600_000);
    expect((await requestSvid({ address, bundlePem: ca.bundlePem, token })).spiffeId).toBe(`spiffe://${TD}/ns/web/sa/after`);
  });

  it('renews with the current SVID as client certificate: same SPIFFE ID, new key', async () => {
    const { token } = await tokens.create(`spiffe://${TD}/ns/db/sa/postgres`, 600_000);
    const first = await requestSvid({ address, bundlePem: ca.bundlePem, token });
    const second = await requestSvid({ address, bundlePem: ca.bundlePem, current: { certChainPem: first.certChainPem, privateKey: first.privateKey } });
    expect(second.spiffeId).toBe(first.spiffeId);
    expect(second.certChainPem).not.toBe(first.certChainPem);
    const third = await requestSvid({ address, bundlePem: ca.bundlePem, current: { certChainPem: second.certChainPem, privateKey: second.privateKey } });
    expect(third.spiffeId).toBe(first.spiffeId);
  });

  it('does not accept a certificate from another CA for renewal', async () => {
    const other = await createTestCa({ trustDomain: TD });
    const minted = await other.mint({ spiffeId: `spiffe://${TD}/ns/evil/sa/x` });
    const { createPrivateKey } = await import('node:crypto');
    const p = requestSvid({ address, bundlePem: ca.bundlePem, current: { certChainPem: minted.certChainPem, privateKey: createPrivateKey(minted.keyPem) } });
    expect(await grpcCodeOf(p)).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a TTL out of bounds with INVALID_ARGUMENT', async () => {
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/ttl`, 600_000);
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token, ttl: '48h' }))).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a CSR for another identity with PERMISSION_DENIED and audit-logs the attempt', async () => {
    const { token } = await tokens.create(`spiffe://${TD}/ns/web/sa/honest`, 600_000);
    const code = await rawSign(address, ca.bundlePem, await csrFor([{ type: 'url', value: `spiffe://${TD}/ns/kube-system/sa/admin` }]), token);
    expect(code).toBe(status.PERMISSION_DENIED);
    expect(audit.lines.some((l) => l['code'] === 'ZTMESH_CA_IDENTITY_MISMATCH' && l['spiffeId'] === `spiffe://${TD}/ns/web/sa/honest` && l['result'] === 'refused')).toBe(true);
  });

  it('maps bad CSRs to INVALID_ARGUMENT and oversized ones to RESOURCE_EXHAUSTED', async () => {
    const t1 = (await tokens.create(`spiffe://${TD}/ns/web/sa/bad-csr`, 600_000)).token;
    expect(await rawSign(address, ca.bundlePem, Buffer.from('not a csr'), t1)).toBe(status.INVALID_ARGUMENT);
    // A malformed CSR does not burn the one-time token.
    expect(await rawSign(address, ca.bundlePem, await csrFor([]), t1)).toBe(status.OK);
    const t2 = (await tokens.create(`spiffe://${TD}/ns/web/sa/big-csr`, 600_000)).token;
    expect(await rawSign(address, ca.bundlePem, Buffer.alloc(64 * 1024 + 1, 0x30), t2)).toBe(status.RESOURCE_EXHAUSTED);
    const t3 = (await tokens.create(`spiffe://${TD}/ns/web/sa/huge-csr`, 600_000)).token;
    expect(await rawSign(address, ca.bundlePem, Buffer.alloc(1024 * 1024, 0x30), t3)).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('serves the bundle, and the client insists on the CA\'s SPIFFE ID', async () => {
    expect(await fetchBundle({ address, bundlePem: ca.bundlePem })).toBe(ca.bundlePem);
    expect(await grpcCodeOf(fetchBundle({ address, bundlePem: ca.bundlePem, caIdentity: `spiffe://${TD}/ns/x/sa/not-the-ca` }))).toBe(status.UNAVAILABLE);
  });

  it('a second server on the same port fails with ZTMESH_CA_LISTEN_FAILED', async () => {
    const p = startCaServer({ authority: ca.authority, authenticator: new CallerAuthenticator({ authority: ca.authority }), listen: address, logger: silentLogger(), audit: silentLogger() });
    await expect(p).rejects.toMatchObject({ code: 'ZTMESH_CA_LISTEN_FAILED' });
  });

  it('renews its own serving certificate while serving', async () => {
    const before = server.identity.current.serial;
    await server.identity.renew();
    expect(server.identity.current.serial).not.toBe(before);
    expect(await fetchBundle({ address, bundlePem: ca.bundlePem })).toBe(ca.bundlePem);
  });
});

describe('CA gRPC server with Kubernetes TokenReview', () => {
  it('issues spiffe://TD/ns/NS/sa/SA for a projected ServiceAccount token, refuses a wrong audience', async () => {
    const { FakeKubeApi } = await import('../authn/fake-kube-api.ts');
    const { kubernetesTokenReviewer } = await import('../authn/token-review.ts');
    const api = await FakeKubeApi.start();
    api.tokens.set('projected-sa-token', { username: 'system:serviceaccount:payments:ledger', audiences: ['ztmesh-ca'] });
    api.tokens.set('default-audience-token', { username: 'system:serviceaccount:payments:ledger', audiences: ['https://kubernetes.default.svc'] });
    const ca = await createTestCa({ trustDomain: TD });
    const reviewer = kubernetesTokenReviewer({ kubeConfig: api.kubeConfig(), audience: 'ztmesh-ca', trustDomain: TD });
    const server = await startCaServer({ authority: ca.authority, authenticator: new CallerAuthenticator({ authority: ca.authority, reviewer }), listen: '127.0.0.1:0', logger: silentLogger(), audit: silentLogger() });
    try {
      const address = `127.0.0.1:${server.port}`;
      const svid = await requestSvid({ address, bundlePem: ca.bundlePem, token: 'projected-sa-token' });
      expect(svid.spiffeId).toBe(`spiffe://${TD}/ns/payments/sa/ledger`);
      expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token: 'default-audience-token' }))).toBe(status.UNAUTHENTICATED);
      api.failWith = 503;
      expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token: 'projected-sa-token' }))).toBe(status.UNAVAILABLE);
    } finally {
      await server.close();
      await api.close();
    }
  });
});
