import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicies } from '../core/policy/compile.ts';
import { parsePolicyDocuments } from '../core/policy/load-policies.ts';
import { meshConfigSchema } from '../core/policy/mesh-config.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { InboundAuthn } from '../sidecar/inbound/inbound-authn.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import type { RequestInfo, RequestObserver, RequestOutcome } from '../sidecar/telemetry/request-observer.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { TestPki, type IssuedLeaf } from './fixtures/pki-mesh.ts';

const TD = 'example.org';
const ISS = 'https://idp.example.com';
const AUD = 'orders';

const POLICY = `
apiVersion: ztmesh.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: end-users, namespace: shop }
spec:
  selector: { matchLabels: { app: orders } }
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${ISS}/alice"] } }]
      to: [{ operation: { paths: ["/orders/*"] } }]
    - to: [{ operation: { paths: ["/admin/*"] } }]
      when: [{ key: "request.auth.claims[groups]", values: ["admins"] }]
`;

interface Signer {
  readonly key: CryptoKey;
  readonly jwk: JWK;
}

async function signer(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

function token(s: Signer, claims: Record<string, unknown> = {}, kid = s.jwk.kid!): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', groups: ['users'], ...claims })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(ISS)
    .setAudience((claims['aud'] as string | undefined) ?? AUD)
    .setIssuedAt(now - 10)
    .setExpirationTime((claims['exp'] as number | undefined) ?? now + 600)
    .sign(s.key);
}

/** What the app saw of each request it received. */
interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly peer: string | undefined;
}

class RecordingObserver implements RequestObserver {
  readonly infos: { principal: string | undefined; claims: unknown; outcome?: RequestOutcome }[] = [];
  start(info: RequestInfo) {
    const entry: { principal: string | undefined; claims: unknown; outcome?: RequestOutcome } = { principal: info.requestPrincipal, claims: info.claims };
    this.infos.push(entry);
    return { forwardHeaders: '', traceId: undefined, end: (o: RequestOutcome) => void (entry.outcome = o) };
  }
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let pki: TestPki;
let client: IssuedLeaf;
let app: Server;
const seen: Seen[] = [];
let es: Signer;
let impostor: Signer;
let inbound: ProxyServer;
let stripping: ProxyServer;
let h2app: Http2Server;
let h2inbound: ProxyServer;
const observer = new RecordingObserver();

function get(server: ProxyServer, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: server.address.port, path, headers, cert: client.certChainPem, key: client.keyPem, ca: pki.bundlePem, checkServerIdentity: () => undefined, agent: false },
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

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const code = (r: Reply) => (JSON.parse(r.body) as { error: { code: string } }).error.code;

async function startSidecar(authn: InboundAuthn, appPort: number): Promise<ProxyServer> {
  const creds = new CredentialsRef();
  const server = await pki.svid('shop', 'orders');
  creds.swap(buildCredentials({ certChainPem: server.certChainPem, privateKey: server.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
  const mesh = meshConfigSchema.parse({ trustDomain: TD, rootNamespace: 'ztmesh-system' });
  const authorizer = compilePolicies(parsePolicyDocuments(POLICY, 'policy.yaml').policies.map((p) => p.policy), { namespace: 'shop', labels: { app: 'orders' } }, mesh);
  return startInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: appPort },
    tcpPorts: new Set(),
    credentials: creds,
    trustDomains: new Set([TD]),
    authorizer: () => authorizer,
    peerAllowed: () => undefined,
    limits: DEFAULT_HTTP1_LIMITS,
    observer,
    metrics: new Registry(),
    logger: silentLogger(),
    authn,
  });
}

beforeAll(async () => {
  pki = await TestPki.create(TD);
  client = await pki.svid('shop', 'frontend');
  es = await signer('k1');
  impostor = await signer('k1'); // same kid, a key the issuer never published
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-authn-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [es.jwk] }));
  app = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization, peer: req.headers['x-ztmesh-peer-identity'] as string | undefined });
    res.setHeader('content-type', 'text/plain');
    res.end(`app:${req.url}`);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const rule = { issuer: ISS, audiences: [AUD], jwksFile, algorithms: ['ES256'] };
  const appPort = (app.address() as { port: number }).port;
  inbound = await startSidecar(new InboundAuthn({ jwtRules: [rule] }), appPort);
  stripping = await startSidecar(new InboundAuthn({ jwtRules: [{ ...rule, forwardOriginalToken: false }] }), appPort);
  // The inbound relays HTTP/2 to the app as h2c: an h2c app behind a sidecar of its own.
  h2app = createH2Server();
  h2app.on('stream', (stream, headers) => {
    seen.push({ path: String(headers[':path']), authorization: headers.authorization, peer: headers['x-ztmesh-peer-identity'] as string | undefined });
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`app:${String(headers[':path'])}`);
  });
  await new Promise<void>((r) => h2app.listen(0, '127.0.0.1', r));
  h2inbound = await startSidecar(new InboundAuthn({ jwtRules: [rule] }), (h2app.address() as { port: number }).port);
});

afterAll(async () => {
  await inbound?.close();
  await stripping?.close();
  await h2inbound?.close();
  await new Promise<void>((r) => h2app.close(() => r()));
  await new Promise<void>((r) => app.close(() => r()));
});

describe('inbound end-user JWT over HTTP/1.1', () => {
  it('a valid ES256 token from the JWKS file is allowed by requestPrincipals; the app still gets the token', async () => {
    const t = await token(es);
    const r = await get(inbound, '/orders/1', bearer(t));
    expect(r.status).toBe(200);
    expect(r.body).toBe('app:/orders/1');
    expect(seen.at(-1)).toEqual({ path: '/orders/1', authorization: `Bearer ${t}`, peer: `spiffe://${TD}/ns/shop/sa/frontend` });
    const info = observer.infos.at(-1)!;
    expect(info.principal).toBe(`${ISS}/alice`);
    expect(info.claims).toMatchObject({ sub: 'alice', iss: ISS });
  });

  it('no token: authorization decides (requestPrincipals unmet: 403)', async () => {
    const r = await get(inbound, '/orders/1');
    expect(r.status).toBe(403);
    expect(code(r)).toBe('ZTMESH_SIDECAR_DENIED');
  });

  it.each([
    ['invalid signature', async () => token(impostor), 'ZTMESH_AUTHN_BAD_SIGNATURE'],
    ['expired', async () => token(es, { exp: Math.floor(Date.now() / 1000) - 3600 }), 'ZTMESH_AUTHN_TOKEN_EXPIRED'],
    ['wrong audience', async () => token(es, { aud: 'billing' }), 'ZTMESH_AUTHN_WRONG_AUDIENCE'],
    ['not a JWT', async () => 'not.a.jwt', 'ZTMESH_AUTHN_MALFORMED_TOKEN'],
  ])('%s: 401 with a Bearer challenge, never forwarded', async (_name, make, expected) => {
    const before = seen.length;
    const r = await get(inbound, '/orders/1', bearer(await make()));
    expect(r.status).toBe(401);
    expect(code(r)).toBe(expected);
    expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(seen.length).toBe(before);
    expect(observer.infos.at(-1)!.outcome).toMatchObject({ status: 401, errorCode: expected });
  });

  it('a policy on request.auth.claims[groups] sees the claims', async () => {
    expect((await get(inbound, '/admin/x', bearer(await token(es, { groups: ['admins'] })))).status).toBe(200);
    const users = await get(inbound, '/admin/x', bearer(await token(es, { groups: ['users'] })));
    expect(users.status).toBe(403);
    expect((await get(inbound, '/admin/x')).status).toBe(403);
  });

  it('pipelined requests keep their order across the asynchronous check', async () => {
    const good = await token(es);
    const bad = await token(impostor);
    const { mtlsConnect, exchange } = await import('./fixtures/pki-pair.ts');
    const socket = mtlsConnect(inbound.address.port, client, pki.bundlePem);
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const req = (t: string, last: boolean) => `GET /orders/7 HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer ${t}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    const out = await exchange(socket, req(bad, false) + req(good, false) + 'GET /orders/8 HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([401, 200, 403]);
  });

  it('forwardOriginalToken: false removes the verified token before the app', async () => {
    const r = await get(stripping, '/orders/2', bearer(await token(es)));
    expect(r.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ path: '/orders/2', authorization: undefined });
  });
});

describe('inbound end-user JWT over HTTP/2', () => {
  let session: ClientHttp2Session;
  beforeAll(async () => {
    session = h2connect(`https://127.0.0.1:${h2inbound.address.port}`, { cert: client.certChainPem, key: client.keyPem, ca: pki.bundlePem, checkServerIdentity: () => undefined });
    session.on('error', () => undefined);
    await new Promise<void>((r) => session.once('connect', () => r()));
  });
  afterAll(() => session?.close());

  function h2get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':path': path, ...headers });
      let head: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => void (head = h as Record<string, string | string[] | undefined>));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString() }));
      stream.on('error', reject);
      stream.end();
    });
  }

  it('valid token: allowed by requestPrincipals; invalid: 401 with the challenge; none: 403', async () => {
    const ok = await h2get('/orders/3', bearer(await token(es)));
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('app:/orders/3');
    const before = seen.length;
    const bad = await h2get('/orders/3', bearer(await token(impostor)));
    expect(bad.status).toBe(401);
    expect(code(bad)).toBe('ZTMESH_AUTHN_BAD_SIGNATURE');
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(seen.length).toBe(before);
    expect((await h2get('/orders/3')).status).toBe(403);
  });
});
