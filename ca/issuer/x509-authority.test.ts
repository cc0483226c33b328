import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { createIntermediate, createRoot } from '../keys/create-ca-certs.ts';
import { generateP256 } from '../keys/p256-keys.ts';
import { createTestCa, type TestCa } from '../testing/test-ca.ts';
import { x509 } from '../x509-lib.ts';
import { ttlPolicyFrom } from './ttl-policy.ts';
import { X509Authority } from './x509-authority.ts';

const TD = 'authority.test';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('X509Authority issuance', () => {
  let now = T0;
  let ca: TestCa;
  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD, clock: () => now, minTtl: '1m' });
  });

  it('issues the X.509-SVID profile with exact, clock-driven times', async () => {
    now = T0 + 1234; // X.509 times are whole seconds: rounded down
    const keys = await generateP256();
    const issued = await ca.authority.issue({ spiffeId: `spiffe://${TD}/ns/a/sa/b`, publicKey: keys.publicKey, ttl: '30m' });
    expect(issued.notBefore).toBe(T0 - 29_000);
    expect(issued.notAfter).toBe(T0 + 1000 + 30 * 60_000);
    const cert = new x509.X509Certificate(issued.leaf.raw);
    expect(cert.notBefore.getTime()).toBe(T0 - 29_000);
    expect(cert.notAfter.getTime()).toBe(T0 + 1000 + 30 * 60_000);
    expect(now - cert.notBefore.getTime()).toBeLessThanOrEqual(60_000);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.critical, bc.ca]).toEqual([true, false]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect([ku.critical, ku.usages]).toEqual([true, x509.KeyUsageFlags.digitalSignature]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const names = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items;
    expect(names.map((n) => [n.type, n.value])).toEqual([['url', `spiffe://${TD}/ns/a/sa/b`]]);
    expect(issued.certChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('uses a 128-bit positive random serial, different every time', async () => {
    const keys = await generateP256();
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const issued = await ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey });
      expect(issued.serial).toMatch(/^[0-7][0-9A-F]{31}$/);
      serials.add(issued.serial);
    }
    expect(serials.size).toBe(20);
  });

  it('defaults to 1h and refuses TTLs outside the bounds', async () => {
    now = T0;
    const keys = await generateP256();
    const issued = await ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey });
    expect(issued.notAfter - now).toBe(3_600_000);
    expect(await codeOf(ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey, ttl: '25h' }))).toBe('ZTMESH_CA_TTL_OUT_OF_BOUNDS');
    expect(await codeOf(ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey, ttl: '10s' }))).toBe('ZTMESH_CA_TTL_OUT_OF_BOUNDS');
  });

  it('never issues outside its trust domain, nor an invalid SPIFFE ID', async () => {
    const keys = await generateP256();
    expect(await codeOf(ca.authority.issue({ spiffeId: 'spiffe://elsewhere.test/ns/a/sa/b', publicKey: keys.publicKey }))).toBe('ZTMESH_CA_FOREIGN_TRUST_DOMAIN');
    expect(await codeOf(ca.authority.issue({ spiffeId: `spiffe://${TD}/a/../b`, publicKey: keys.publicKey }))).toBe('ZTMESH_SPIFFE_INVALID_ID');
  });

  it('caps notAfter at the intermediate\'s own notAfter, and refuses once it has expired', async () => {
    const keys = await generateP256();
    now = ca.authority.intermediateNotAfter - 10 * 60_000;
    const issued = await ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey, ttl: '1h' });
    expect(issued.notAfter).toBe(ca.authority.intermediateNotAfter);
    now = ca.authority.intermediateNotAfter + 1000;
    expect(await codeOf(ca.authority.issue({ spiffeId: `spiffe://${TD}/x`, publicKey: keys.publicKey }))).toBe('ZTMESH_CA_ISSUER_EXPIRED');
    now = T0;
  });

  it('verify() accepts its own SVIDs and refuses another CA\'s', async () => {
    const mine = await ca.mint({ spiffeId: `spiffe://${TD}/mine` });
    const chain = mine.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
    expect(ca.authority.verify(chain).spiffeId).toBe(`spiffe://${TD}/mine`);
    const other = await createTestCa({ trustDomain: TD, clock: () => now });
    const theirs = await other.mint({ spiffeId: `spiffe://${TD}/mine` });
    const theirChain = theirs.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
    expect(() => ca.authority.verify(theirChain)).toThrow(expect.objectContaining({ code: 'ZTMESH_CA_BAD_SVID' }));
  });
});

describe('X509Authority material checks', () => {
  it('refuses an intermediate key that does not match the intermediate certificate', async () => {
    const root = await createRoot(TD, T0);
    const intermediate = await createIntermediate(TD, { certificate: root.certificate, signingKey: root.keys.privateKey }, T0);
    const stranger = await generateP256();
    const p = X509Authority.create(
      { trustDomain: TD, bundlePem: root.certPem, intermediateChainPem: intermediate.certPem, signingKey: stranger.privateKey },
      { ttlPolicy: ttlPolicyFrom({}) },
    );
    expect(await codeOf(p)).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
  });

  it('refuses an intermediate that does not chain to the bundle', async () => {
    const root = await createRoot(TD, T0);
    const otherRoot = await createRoot(TD, T0);
    const intermediate = await createIntermediate(TD, { certificate: root.certificate, signingKey: root.keys.privateKey }, T0);
    const p = X509Authority.create(
      { trustDomain: TD, bundlePem: otherRoot.certPem, intermediateChainPem: intermediate.certPem, signingKey: intermediate.keys.privateKey },
      { ttlPolicy: ttlPolicyFrom({}) },
    );
    expect(await codeOf(p)).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
  });
});
