import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { createTestCa, type TestCa } from '../testing/test-ca.ts';
import { verifySvid } from './svid-validator.ts';

const TD = 'validator.test';
const T0 = Date.parse('2031-06-01T12:00:00Z');

function chainOf(pem: string): X509Certificate[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('verifySvid', () => {
  let ca: TestCa;
  let roots: X509Certificate[];
  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD, clock: () => T0 });
    roots = chainOf(ca.bundlePem);
  });

  it('accepts a fresh SVID and reports its facts', async () => {
    const { certChainPem, issued } = await ca.mint({ spiffeId: `spiffe://${TD}/svc`, ttl: '10m' });
    const v = verifySvid(chainOf(certChainPem), { trustDomain: TD, roots }, T0);
    expect(v).toMatchObject({ spiffeId: `spiffe://${TD}/svc`, serial: issued.serial, notAfter: T0 + 600_000 });
  });

  it('refuses it once expired or before notBefore', async () => {
    const { certChainPem } = await ca.mint({ spiffeId: `spiffe://${TD}/svc`, ttl: '10m' });
    expect(codeOf(() => verifySvid(chainOf(certChainPem), { trustDomain: TD, roots }, T0 + 601_000))).toBe('ZTMESH_CA_BAD_SVID');
    expect(codeOf(() => verifySvid(chainOf(certChainPem), { trustDomain: TD, roots }, T0 - 120_000))).toBe('ZTMESH_CA_BAD_SVID');
  });

  it('refuses a chain without the intermediate, or against another bundle', async () => {
    const { certChainPem } = await ca.mint({ spiffeId: `spiffe://${TD}/svc` });
    expect(codeOf(() => verifySvid(chainOf(certChainPem).slice(0, 1), { trustDomain: TD, roots }, T0))).toBe('ZTMESH_CA_BAD_SVID');
    const other = await createTestCa({ trustDomain: TD, clock: () => T0 });
    expect(codeOf(() => verifySvid(chainOf(certChainPem), { trustDomain: TD, roots: chainOf(other.bundlePem) }, T0))).toBe('ZTMESH_CA_BAD_SVID');
    expect(codeOf(() => verifySvid([], { trustDomain: TD, roots }, T0))).toBe('ZTMESH_CA_BAD_SVID');
  });

  it('refuses a CA certificate presented as a leaf', () => {
    const intermediate = chainOf(ca.authority.intermediateChainPem);
    expect(codeOf(() => verifySvid(intermediate, { trustDomain: TD, roots }, T0))).toBe('ZTMESH_CA_BAD_SVID');
  });

  it('refuses an SVID of another trust domain, even from a trusted root', async () => {
    const { certChainPem } = await ca.mint({ spiffeId: `spiffe://${TD}/svc` });
    expect(codeOf(() => verifySvid(chainOf(certChainPem), { trustDomain: 'other.test', roots }, T0))).toBe('ZTMESH_CA_BAD_SVID');
  });
});
