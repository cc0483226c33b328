import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { caCodes } from '../error-codes.ts';
import { grpcStatusFor } from './grpc-status.ts';

describe('grpcStatusFor (the CA rescue point)', () => {
  it.each([
    ['ZTMESH_CA_UNAUTHENTICATED', status.UNAUTHENTICATED],
    ['ZTMESH_CA_TOKEN_INVALID', status.UNAUTHENTICATED],
    ['ZTMESH_CA_SA_TOKEN_REJECTED', status.UNAUTHENTICATED],
    ['ZTMESH_CA_IDENTITY_MISMATCH', status.PERMISSION_DENIED],
    ['ZTMESH_CA_FOREIGN_TRUST_DOMAIN', status.PERMISSION_DENIED],
    ['ZTMESH_CA_INVALID_CSR', status.INVALID_ARGUMENT],
    ['ZTMESH_CA_UNSUPPORTED_KEY', status.INVALID_ARGUMENT],
    ['ZTMESH_CA_TTL_OUT_OF_BOUNDS', status.INVALID_ARGUMENT],
    ['ZTMESH_CONFIG_BAD_DURATION', status.INVALID_ARGUMENT],
    ['ZTMESH_CA_CSR_TOO_LARGE', status.RESOURCE_EXHAUSTED],
    ['ZTMESH_CA_TOKEN_REVIEW_FAILED', status.UNAVAILABLE],
  ])('%s -> %s', (code, expected) => {
    expect(caCodes[code as keyof typeof caCodes] ?? code).toBeTruthy();
    expect(grpcStatusFor(new MeshError(code, 'x'))).toEqual({ code: expected, known: true });
  });

  it('anything unexpected is INTERNAL and flagged unknown', () => {
    expect(grpcStatusFor(new TypeError('boom'))).toEqual({ code: status.INTERNAL, known: false });
    expect(grpcStatusFor(new MeshError('ZTMESH_CA_SELF_CHECK_FAILED', 'x'))).toEqual({ code: status.INTERNAL, known: false });
  });
});
