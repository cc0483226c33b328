import { createRoot, createIntermediate } from '../keys/create-ca-certs.ts';
import { exportPkcs8Pem, generateP256 } from '../keys/p256-keys.ts';
import { type Clock, type IssuedSvid, X509Authority } from '../issuer/x509-authority.ts';
import { ttlPolicyFrom } from '../issuer/ttl-policy.ts';

export interface TestCa {
  readonly trustDomain: string;
  /** The root, PEM: what relying parties trust. */
  readonly bundlePem: string;
  /** The authority itself, for tests that need more than mint (e.g. verify, issue with a given key). */
  readonly authority: X509Authority;
  /** A fresh P-256 key and an SVID for it: chain is leaf then intermediate; key is PKCS#8 PEM (in memory only). */
  mint(options: { spiffeId: string; ttl?: string }): Promise<{ certChainPem: string; keyPem: string; issued: IssuedSvid }>;
}

/**
 * An in-memory CA for other components' tests: a fresh root and intermediate, issuing through the
 * same template → sign → validate pipeline as `ztmesh ca serve`. TTL bounds are [30s, 24h] (default
 * 1h) so rotation tests can ask for short lifetimes; pass `clock` to control notBefore/notAfter.
 */
export async function createTestCa(options: { trustDomain: string; clock?: Clock; minTtl?: string; maxTtl?: string }): Promise<TestCa> {
  const clock = options.clock ?? Date.now;
  const now = clock();
  const root = await createRoot(options.trustDomain, now);
  const intermediate = await createIntermediate(options.trustDomain, { certificate: root.certificate, signingKey: root.keys.privateKey }, now);
  const authority = await X509Authority.create(
    { trustDomain: options.trustDomain, bundlePem: root.certPem, intermediateChainPem: intermediate.certPem, signingKey: intermediate.keys.privateKey },
    { ttlPolicy: ttlPolicyFrom({ minTtl: options.minTtl ?? '30s', maxTtl: options.maxTtl ?? '24h' }), clock },
  );
  return {
    trustDomain: options.trustDomain,
    bundlePem: root.certPem,
    authority,
    async mint({ spiffeId, ttl }) {
      const keys = await generateP256();
      const issued = await authority.issue({ spiffeId, publicKey: keys.publicKey, ttl });
      return { certChainPem: issued.certChainPem, keyPem: exportPkcs8Pem(keys.privateKey), issued };
    },
  };
}
