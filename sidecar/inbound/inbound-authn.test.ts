import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { InboundAuthn, type AuthnTarget } from './inbound-authn.ts';

const ISS = 'https://idp.example.com';

function target(headers: Record<string, string>): AuthnTarget {
  return { header: (name) => headers[name], requestPrincipal: undefined, claims: undefined };
}

describe('InboundAuthn', () => {
  it('sees a token only in the configured headers', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] });
    const authn = new InboundAuthn({ jwtRules: [{ issuer: ISS, audiences: ['a'], jwks, fromHeaders: [{ name: 'X-Jwt', prefix: '' }] }] });
    expect(authn.tokenPresent(target({ 'x-jwt': 'abc' }))).toBe(true);
    expect(authn.tokenPresent(target({ authorization: 'Bearer abc' }))).toBe(false);
  });

  it('records ISS/SUB and the claims of a valid token; strips its header only when forwardOriginalToken is false', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] });
    const jwt = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(ISS).setAudience('a').setExpirationTime('5m').sign(privateKey);
    for (const forwardOriginalToken of [true, false]) {
      const authn = new InboundAuthn({ jwtRules: [{ issuer: ISS, audiences: ['a'], jwks, algorithms: ['ES256'], forwardOriginalToken }] });
      const req = target({ authorization: `Bearer ${jwt}` });
      expect(await authn.authenticate(req)).toBeUndefined();
      expect(req.requestPrincipal).toBe(`${ISS}/alice`);
      expect(req.claims).toMatchObject({ iss: ISS, sub: 'alice' });
      expect(authn.headersToStrip(req)).toEqual(forwardOriginalToken ? [] : ['authorization']);
    }
  });

  it('an invalid token is a 401 with the Bearer challenge; no token is no decision', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] });
    const authn = new InboundAuthn({ jwtRules: [{ issuer: ISS, audiences: ['a'], jwks }] });
    const refused = await authn.authenticate(target({ authorization: 'Bearer nope' }));
    expect(refused).toMatchObject({ status: 401, code: 'ZTMESH_AUTHN_MALFORMED_TOKEN', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    expect(await authn.authenticate(target({}))).toBeUndefined();
  });

  it('refuses a bad config at construction', () => {
    let code: string | undefined;
    try {
      new InboundAuthn({ jwtRules: [{ issuer: ISS, audiences: ['a'], jwks: '{', algorithms: ['ES256'] }] });
    } catch (err) {
      code = errorCode(err);
    }
    expect(code).toBe('ZTMESH_AUTHN_BAD_CONFIG');
  });
});
