import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_USAGE, TestPki } from '../../test/fixtures/pki-mesh.ts';
import { buildCredentials } from './build-credentials.ts';
import { verifyPeerSvid } from './verify-svid.ts';

let pki: TestPki;
let other: TestPki;
const td = 'example.org';
const domains = new Set([td]);

beforeAll(async () => {
  pki = await TestPki.create(td);
  other = await TestPki.create('other.org');
});

async function verdict(options: Parameters<TestPki['leaf']>[0], trust = domains) {
  const leaf = await pki.leaf(options);
  return verifyPeerSvid(new X509Certificate(leaf.certChainPem), { trustDomains: trust, now: Date.now() });
}

describe('verifyPeerSvid', () => {
  it('accepts a workload SVID and returns its SPIFFE ID', async () => {
    expect(await verdict({ uris: ['spiffe://example.org/ns/shop/sa/orders'] })).toEqual({ ok: true, id: 'spiffe://example.org/ns/shop/sa/orders' });
  });
  it.each([
    ['a leaf that is a CA', { uris: ['spiffe://example.org/a'], ca: true }, 'leaf certificate is a CA'],
    ['keyCertSign usage', { uris: ['spiffe://example.org/a'], keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign }, 'leaf certificate has keyCertSign or cRLSign key usage'],
    ['two URI SANs', { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] }, 'more than one URI SAN'],
    ['a non-SPIFFE URI', { uris: ['https://example.org/a'] }, 'URI SAN is not a SPIFFE ID'],
    ['no URI SAN', { uris: [] }, 'no URI SAN'],
    ['another trust domain', { uris: ['spiffe://evil.org/a'] }, 'SPIFFE ID is not in an accepted trust domain'],
    ['an expired certificate', { uris: ['spiffe://example.org/a'], notBefore: Date.now() - 7200_000, notAfter: Date.now() - 3600_000 }, 'certificate has expired'],
    ['a not-yet-valid certificate', { uris: ['spiffe://example.org/a'], notBefore: Date.now() + 3600_000 }, 'certificate is not yet valid'],
  ])('refuses %s', async (_name, options, reason) => {
    expect(await verdict(options)).toEqual({ ok: false, reason });
  });
});

describe('buildCredentials', () => {
  it('builds contexts for a valid SVID', async () => {
    const leaf = await pki.svid('shop', 'orders');
    const creds = buildCredentials({ certChainPem: leaf.certChainPem, privateKey: leaf.keyPem, bundlePem: pki.bundlePem, trustDomain: td });
    expect(creds.identity).toBe('spiffe://example.org/ns/shop/sa/orders');
    expect(creds.notAfter).toBeGreaterThan(Date.now());
  });
  it('refuses a key that does not match the leaf', async () => {
    const a = await pki.svid('shop', 'a');
    const b = await pki.svid('shop', 'b');
    expect(() => buildCredentials({ certChainPem: a.certChainPem, privateKey: b.keyPem, bundlePem: pki.bundlePem, trustDomain: td })).toThrowError(
      expect.objectContaining({ code: 'ZTMESH_SIDECAR_BAD_SVID' }),
    );
  });
  it('refuses a chain that does not lead to the bundle', async () => {
    const a = await pki.svid('shop', 'a');
    expect(() => buildCredentials({ certChainPem: a.certChainPem, privateKey: a.keyPem, bundlePem: other.bundlePem, trustDomain: td })).toThrowError(
      expect.objectContaining({ code: 'ZTMESH_SIDECAR_BAD_SVID' }),
    );
  });
  it('refuses garbage PEM and an SVID of another trust domain', async () => {
    const a = await other.svid('shop', 'a');
    expect(() => buildCredentials({ certChainPem: 'nope', privateKey: a.keyPem, bundlePem: other.bundlePem, trustDomain: td })).toThrowError(
      expect.objectContaining({ code: 'ZTMESH_SIDECAR_BAD_SVID' }),
    );
    expect(() => buildCredentials({ certChainPem: a.certChainPem, privateKey: a.keyPem, bundlePem: other.bundlePem, trustDomain: td })).toThrowError(
      expect.objectContaining({ code: 'ZTMESH_SIDECAR_BAD_SVID' }),
    );
  });
});
