import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { createJwtAuthenticator, type AuthnResult } from './jwt-authenticator.ts';

const ISS = 'https://idp.example.com';
const AUD = 'orders';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const now = () => NOW;
const sec = (ms: number) => Math.floor(ms / 1000);

interface Signer {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly alg: string;
  readonly kid: string;
}

async function signer(alg: 'ES256' | 'RS256', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, alg, kid };
}

function token(s: Signer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'alice', groups: ['admins'], ...claims })
    .setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'JWT', ...header })
    .setIssuer((claims['iss'] as string | undefined) ?? ISS)
    .setAudience((claims['aud'] as string | undefined) ?? AUD)
    .setIssuedAt(sec(NOW) - 10)
    .setExpirationTime((claims['exp'] as number | undefined) ?? sec(NOW) + 600)
    .sign(s.privateKey);
}

const bearer = (t: string) => (name: string) => (name === 'authorization' ? `Bearer ${t}` : undefined);
const headers = (h: Record<string, string>) => (name: string) => h[name];

function expectInvalid(r: AuthnResult, code: string): void {
  expect(r.kind).toBe('invalid');
  if (r.kind === 'invalid') expect(r.code).toBe(code);
}

let es: Signer;
let rs: Signer;
let other: Signer;
beforeAll(async () => {
  [es, rs, other] = await Promise.all([signer('ES256', 'es-1'), signer('RS256', 'rs-1'), signer('ES256', 'es-other')]);
});

describe('JWT authentication with local keys', () => {
  const config = () => ({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwks: JSON.stringify({ keys: [es.publicJwk, rs.publicJwk] }), algorithms: ['ES256', 'RS256'] }] });

  it('accepts ES256 and RS256 tokens and returns ISS/SUB and the claims', async () => {
    const authn = createJwtAuthenticator(config(), { now });
    for (const s of [es, rs]) {
      const r = await authn.authenticate(bearer(await token(s)));
      expect(r).toMatchObject({ kind: 'ok', requestPrincipal: `${ISS}/alice` });
      if (r.kind === 'ok') expect(r.claims['groups']).toEqual(['admins']);
    }
  });

  it('a request without a token (or with Basic auth) is none, for authorization to decide', async () => {
    const authn = createJwtAuthenticator(config(), { now });
    expect(await authn.authenticate(() => undefined)).toEqual({ kind: 'none' });
    expect(await authn.authenticate(headers({ authorization: 'Basic dXNlcjpwYXNz' }))).toEqual({ kind: 'none' });
  });

  it.each([
    ['expired', async () => token(es, { exp: sec(NOW) - 120 }), 'ZTMESH_AUTHN_TOKEN_EXPIRED'],
    ['wrong audience', async () => token(es, { aud: 'payments' }), 'ZTMESH_AUTHN_WRONG_AUDIENCE'],
    ['wrong issuer', async () => token(es, { iss: 'https://evil.example.com' }), 'ZTMESH_AUTHN_UNKNOWN_ISSUER'],
    ['unknown kid', async () => token(other), 'ZTMESH_AUTHN_UNKNOWN_KEY'],
    ['not yet valid', async () => token(es, { nbf: sec(NOW) + 3600 }), 'ZTMESH_AUTHN_CLAIM_INVALID'],
    ['no sub', async () => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).setIssuer(ISS).setAudience(AUD).setExpirationTime(sec(NOW) + 60).sign(es.privateKey), 'ZTMESH_AUTHN_CLAIM_INVALID'],
    ['tampered payload', async () => {
      const [h, , s] = (await token(es)).split('.');
      const forged = Buffer.from(JSON.stringify({ iss: ISS, aud: AUD, sub: 'admin', exp: sec(NOW) + 600 })).toString('base64url');
      return `${h}.${forged}.${s}`;
    }, 'ZTMESH_AUTHN_BAD_SIGNATURE'],
    ['alg none', async () => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: ISS, aud: AUD, sub: 'alice', exp: sec(NOW) + 600 })}.`;
    }, 'ZTMESH_AUTHN_ALG_NOT_ALLOWED'],
    ['HS256 signed with the RSA public key (key confusion)', async () => {
      const { createHmac } = await import('node:crypto');
      const { importJWK } = await import('jose');
      const pem = await exportSPKI((await importJWK(rs.publicJwk, 'RS256', { extractable: true })) as CryptoKey);
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${enc({ alg: 'HS256', kid: 'rs-1', typ: 'JWT' })}.${enc({ iss: ISS, aud: AUD, sub: 'admin', exp: sec(NOW) + 600 })}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }, 'ZTMESH_AUTHN_ALG_NOT_ALLOWED'],
    ['garbage', async () => 'not.a.jwt', 'ZTMESH_AUTHN_MALFORMED_TOKEN'],
    ['oversized', async () => 'a'.repeat(9000), 'ZTMESH_AUTHN_MALFORMED_TOKEN'],
  ])('refuses a token: %s', async (_name, make, code) => {
    const authn = createJwtAuthenticator(config(), { now });
    expectInvalid(await authn.authenticate(bearer(await make())), code);
  });

  it('accepts an expired token within the clock skew', async () => {
    const authn = createJwtAuthenticator({ jwtRules: [{ ...config().jwtRules[0]!, clockSkew: '5m' }] }, { now });
    expect((await authn.authenticate(bearer(await token(es, { exp: sec(NOW) - 120 })))).kind).toBe('ok');
  });

  it('refuses algorithms outside the allow-list even with a valid signature', async () => {
    const authn = createJwtAuthenticator({ jwtRules: [{ ...config().jwtRules[0]!, algorithms: ['ES256'] }] }, { now });
    expectInvalid(await authn.authenticate(bearer(await token(rs))), 'ZTMESH_AUTHN_ALG_NOT_ALLOWED');
  });

  it('reads tokens from configured headers, and refuses two different tokens', async () => {
    const authn = createJwtAuthenticator({ jwtRules: [{ ...config().jwtRules[0]!, fromHeaders: [{ name: 'x-jwt' }, { name: 'Authorization', prefix: 'Bearer ' }] }] }, { now });
    const t = await token(es);
    expect((await authn.authenticate(headers({ 'x-jwt': t }))).kind).toBe('ok');
    expect((await authn.authenticate(headers({ 'x-jwt': t, authorization: `Bearer ${t}` }))).kind).toBe('ok');
    expectInvalid(await authn.authenticate(headers({ 'x-jwt': t, authorization: `Bearer ${await token(rs)}` })), 'ZTMESH_AUTHN_MULTIPLE_TOKENS');
    expectInvalid(await authn.authenticate(headers({ authorization: `Bearer ${t}, Bearer ${t}` })), 'ZTMESH_AUTHN_MULTIPLE_TOKENS');
  });

  it('loads a JWKS file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [rs.publicJwk] }));
    const authn = createJwtAuthenticator({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwksFile: file, algorithms: ['RS256'] }] }, { now });
    expect((await authn.authenticate(bearer(await token(rs)))).kind).toBe('ok');
  });

  it.each([
    ['HS256 in algorithms', { algorithms: ['HS256'] }, 'ZTMESH_CONFIG_INVALID'],
    ['alg none', { algorithms: ['none'] }, 'ZTMESH_CONFIG_INVALID'],
    ['two key sources', { jwksUri: 'https://idp.example.com/jwks' }, 'ZTMESH_CONFIG_INVALID'],
    ['plain http jwksUri', { jwks: undefined, jwksUri: 'http://idp.example.com/jwks' }, 'ZTMESH_CONFIG_INVALID'],
    ['no audiences', { audiences: [] }, 'ZTMESH_CONFIG_INVALID'],
    ['unknown field', { outputPayloadToHeader: 'x-jwt-payload' }, 'ZTMESH_CONFIG_INVALID'],
    ['symmetric key', { jwks: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) }, 'ZTMESH_AUTHN_BAD_CONFIG'],
    ['private key material', { jwks: '__private__' }, 'ZTMESH_AUTHN_BAD_CONFIG'],
    ['JWKS not JSON', { jwks: '{' }, 'ZTMESH_AUTHN_BAD_CONFIG'],
    ['missing jwksFile', { jwks: undefined, jwksFile: '/nonexistent/jwks.json' }, 'ZTMESH_AUTHN_BAD_CONFIG'],
  ])('refuses a bad config: %s', async (_name, patch, code) => {
    let jwks = config().jwtRules[0]!.jwks;
    if ((patch as { jwks?: string }).jwks === '__private__') {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      jwks = JSON.stringify({ keys: [await exportJWK(privateKey)] });
    }
    const rule = { ...config().jwtRules[0]!, ...patch, ...((patch as { jwks?: string }).jwks === '__private__' ? { jwks } : {}) };
    let got = '';
    try {
      createJwtAuthenticator({ jwtRules: [rule] });
    } catch (err) {
      got = errorCode(err);
    }
    expect(got).toBe(code);
  });
});

describe('JWT authentication with a remote JWKS (loopback server)', () => {
  let server: Server;
  let keys: JWK[] = [];
  let fetches = 0;
  let uri = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      fetches++;
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fetches once, caches, and refreshes on an unknown kid only after the cooldown', async () => {
    keys = [es.publicJwk];
    fetches = 0;
    const cooled = createJwtAuthenticator({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwksUri: uri, algorithms: ['ES256', 'RS256'] }], jwksRefreshCooldown: '30s' }, { now });
    for (let i = 0; i < 5; i++) expect((await cooled.authenticate(bearer(await token(es)))).kind).toBe('ok');
    expect(fetches).toBe(1);
    // Key rotation published, but within the cooldown: unknown kids do not hammer the IdP.
    keys = [es.publicJwk, other.publicJwk];
    for (let i = 0; i < 5; i++) expectInvalid(await cooled.authenticate(bearer(await token(other))), 'ZTMESH_AUTHN_UNKNOWN_KEY');
    expect(fetches).toBe(1);

    const eager = createJwtAuthenticator({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwksUri: uri, algorithms: ['ES256'] }], jwksRefreshCooldown: '0s' }, { now });
    keys = [es.publicJwk];
    expect((await eager.authenticate(bearer(await token(es)))).kind).toBe('ok');
    keys = [es.publicJwk, other.publicJwk];
    expect((await eager.authenticate(bearer(await token(other)))).kind).toBe('ok');
    expect(fetches).toBe(3);
  });

  it('an unreachable or broken JWKS endpoint refuses the token', async () => {
    const broken = createJwtAuthenticator({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwksUri: uri.replace('/jwks', '/missing'), algorithms: ['ES256'] }] }, { now });
    expectInvalid(await broken.authenticate(bearer(await token(es))), 'ZTMESH_AUTHN_JWKS_UNAVAILABLE');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = createJwtAuthenticator({ jwtRules: [{ issuer: ISS, audiences: [AUD], jwksUri: `http://127.0.0.1:${port}/jwks`, algorithms: ['ES256'] }] }, { now });
    expectInvalid(await down.authenticate(bearer(await token(es))), 'ZTMESH_AUTHN_JWKS_UNAVAILABLE');
  });
});
