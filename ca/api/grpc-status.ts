import { status } from '@grpc/grpc-js';
import { errorCode } from '../../core/errors/mesh-error.ts';

const BY_CODE: Readonly<Record<string, status>> = {
  ZTMESH_CA_UNAUTHENTICATED: status.UNAUTHENTICATED,
  ZTMESH_CA_TOKEN_INVALID: status.UNAUTHENTICATED,
  ZTMESH_CA_SA_TOKEN_REJECTED: status.UNAUTHENTICATED,
  ZTMESH_CA_IDENTITY_MISMATCH: status.PERMISSION_DENIED,
  ZTMESH_CA_FOREIGN_TRUST_DOMAIN: status.PERMISSION_DENIED,
  ZTMESH_CA_INVALID_CSR: status.INVALID_ARGUMENT,
  ZTMESH_CA_UNSUPPORTED_KEY: status.INVALID_ARGUMENT,
  ZTMESH_CA_TTL_OUT_OF_BOUNDS: status.INVALID_ARGUMENT,
  ZTMESH_CONFIG_BAD_DURATION: status.INVALID_ARGUMENT,
  ZTMESH_SPIFFE_INVALID_ID: status.INVALID_ARGUMENT,
  ZTMESH_CA_CSR_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  ZTMESH_CA_TOKEN_REVIEW_FAILED: status.UNAVAILABLE,
  ZTMESH_CA_LOCK_TIMEOUT: status.UNAVAILABLE,
  ZTMESH_CA_ISSUER_EXPIRED: status.FAILED_PRECONDITION,
};

/** The one mapping from errors to gRPC status: known codes to their status, anything else INTERNAL. */
export function grpcStatusFor(err: unknown): { code: status; known: boolean } {
  const mapped = BY_CODE[errorCode(err)];
  return mapped === undefined ? { code: status.INTERNAL, known: false } : { code: mapped, known: true };
}
