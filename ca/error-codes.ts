import { defineCodes } from '../core/errors/code-registry.ts';

export const caCodes = defineCodes('CA', {
  ZTMESH_CA_ALREADY_EXISTS: 'ca init found an existing CA in the directory and refused to overwrite it.',
  ZTMESH_CA_NOT_INITIALIZED: 'The CA directory holds no CA (run ztmesh ca init first), or one of its files is missing.',
  ZTMESH_CA_BAD_CA_MATERIAL: 'A CA certificate or key (own or plugged in) is malformed, not ECDSA P-256, not a CA, or does not match.',
  ZTMESH_CA_TTL_OUT_OF_BOUNDS: 'A requested certificate lifetime is outside the CA\'s configured [min, max] bounds.',
  ZTMESH_CA_BAD_TTL_BOUNDS: 'The CA\'s TTL bounds are inconsistent (min below 30s, min above max, or default outside them).',
  ZTMESH_CA_ISSUER_EXPIRED: 'The intermediate is expired or too close to expiry to issue a certificate of the minimum lifetime.',
  ZTMESH_CA_FOREIGN_TRUST_DOMAIN: 'A SPIFFE ID outside the CA\'s trust domain was asked for; it is never issued.',
  ZTMESH_CA_INVALID_CSR: 'A certificate signing request is malformed or its signature does not verify.',
  ZTMESH_CA_CSR_TOO_LARGE: 'A certificate signing request is larger than 64 KiB.',
  ZTMESH_CA_UNSUPPORTED_KEY: 'A certificate signing request carries a key other than ECDSA P-256.',
  ZTMESH_CA_IDENTITY_MISMATCH: 'A CSR asks for an identity (URI SAN or CN) other than the authenticated caller\'s; refused and audit-logged.',
  ZTMESH_CA_UNAUTHENTICATED: 'The caller presented no credential the CA accepts (SVID, join token, or ServiceAccount token).',
  ZTMESH_CA_TOKEN_INVALID: 'A join token is unknown, expired, or already used.',
  ZTMESH_CA_SA_TOKEN_REJECTED: 'A Kubernetes ServiceAccount token failed TokenReview (unauthenticated, wrong audience, not a ServiceAccount).',
  ZTMESH_CA_TOKEN_REVIEW_FAILED: 'The Kubernetes TokenReview API could not be reached or answered unexpectedly.',
  ZTMESH_CA_SELF_CHECK_FAILED: 'A certificate the CA just signed failed its own validation (chain or profile); it was not returned.',
  ZTMESH_CA_BAD_SVID: 'A certificate is not a valid X.509-SVID of this trust domain (chain, validity, or profile).',
  ZTMESH_CA_RPC_FAILED: 'A call to the CA failed (connection, TLS, or the CA refused); details carry the gRPC status.',
  ZTMESH_CA_LISTEN_FAILED: 'ca serve could not listen on the --listen address (in use, not local, malformed).',
  ZTMESH_CA_LOCK_TIMEOUT: 'A CA directory file lock could not be taken in time.',
});
