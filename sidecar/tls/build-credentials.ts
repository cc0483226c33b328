import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { Credentials } from './credentials.ts';
import { verifyPeerSvid } from './verify-svid.ts';

/** Key exchange groups, most preferred first: hybrid post-quantum, then X25519, then P-256. */
export const KEY_EXCHANGE_GROUPS = 'X25519MLKEM768:X25519:P-256';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order; throws ZTMESH_SIDECAR_BAD_SVID naming `what`. */
export function splitPemCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', `${what} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', `${what}: certificate ${i + 1} cannot be parsed`, { cause: err });
    }
  });
}

/** TLS 1.3 only, hybrid post-quantum key exchange first. */
export const TLS_VERSIONS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ecdhCurve: KEY_EXCHANGE_GROUPS } as const;

function tlsContext(options: { cert: string; key: string; ca: string }): SecureContext {
  return createSecureContext({ ...options, ...TLS_VERSIONS });
}

/**
 * Validates this workload's SVID (leaf against the X.509-SVID rules in its own trust domain, the
 * key matches the leaf, the chain leads to the bundle) and builds the server and client TLS
 * contexts once, for the whole life of this snapshot. Throws ZTMESH_SIDECAR_BAD_SVID.
 */
export function buildCredentials(input: { certChainPem: string; privateKey: KeyObject | string; bundlePem: string; trustDomain: string }): Credentials {
  const chain = splitPemCertificates(input.certChainPem, 'certificate chain');
  const bundle = splitPemCertificates(input.bundlePem, 'trust bundle');
  const leaf = chain[0]!;
  const verdict = verifyPeerSvid(leaf, { trustDomains: new Set([input.trustDomain]), now: Date.now() });
  if (!verdict.ok) throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', `own SVID is invalid: ${verdict.reason}`);
  let key: KeyObject;
  try {
    key = typeof input.privateKey === 'string' ? createPrivateKey(input.privateKey) : input.privateKey;
  } catch (err) {
    throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', 'private key cannot be parsed', { cause: err });
  }
  if (key.type !== 'private' || !leaf.checkPrivateKey(key)) {
    throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', 'private key does not match the SVID leaf certificate');
  }
  // Each certificate must be issued by the next one, the last by a bundle anchor.
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuers = i + 1 < chain.length ? [chain[i + 1]!] : bundle;
    if (!issuers.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      if (i + 1 === chain.length && bundle.some((anchor) => anchor.fingerprint256 === cert.fingerprint256)) break;
      throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', `certificate ${i + 1} of the chain is not signed by ${i + 1 < chain.length ? 'the next one' : 'the trust bundle'}`);
    }
  }
  const tlsOptions = { cert: input.certChainPem, key: key.export({ format: 'pem', type: 'pkcs8' }).toString(), ca: input.bundlePem };
  let serverContext: SecureContext;
  let clientContext: SecureContext;
  try {
    serverContext = tlsContext(tlsOptions);
    clientContext = tlsContext(tlsOptions);
  } catch (err) {
    throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', 'TLS context cannot be built from the SVID', { cause: err });
  }
  return {
    identity: verdict.id,
    trustDomain: input.trustDomain,
    certChainPem: input.certChainPem,
    leaf,
    notBefore: leaf.validFromDate.getTime(),
    notAfter: leaf.validToDate.getTime(),
    bundlePem: input.bundlePem,
    serverContext,
    clientContext,
    tlsOptions,
  };
}
