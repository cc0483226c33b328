import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Credentials } from '../tls/credentials.ts';

/**
 * A hand-written stand-in for the data plane's buildCredentials in unit tests of the identity
 * lifecycle: it parses the leaf, checks the key matches and builds real TLS contexts, but does not
 * run the full SVID profile checks (those are the data plane's, tested there).
 */
export function fakeBuildCredentials(input: { certChainPem: string; privateKey: KeyObject | string; bundlePem: string; trustDomain: string }): Credentials {
  const leaf = new X509Certificate(input.certChainPem);
  const key = typeof input.privateKey === 'string' ? createPrivateKey(input.privateKey) : input.privateKey;
  if (!leaf.checkPrivateKey(key)) throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', 'private key does not match the certificate');
  const uri = /URI:([^,\s]+)/.exec(leaf.subjectAltName ?? '')?.[1];
  if (uri === undefined) throw new MeshError('ZTMESH_SIDECAR_BAD_SVID', 'no URI SAN');
  const options = { cert: input.certChainPem, key: key.export({ format: 'pem', type: 'pkcs8' }), ca: input.bundlePem, minVersion: 'TLSv1.3' as const };
  return {
    identity: parseSpiffeId(uri).id,
    trustDomain: input.trustDomain,
    certChainPem: input.certChainPem,
    leaf,
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    bundlePem: input.bundlePem,
    serverContext: createSecureContext(options),
    clientContext: createSecureContext(options),
  };
}
