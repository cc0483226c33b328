import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export const CA_PROTO_PATH = fileURLToPath(new URL('../../core/proto/ca.proto', import.meta.url));

export interface SignCertificateRequest {
  csr: Buffer;
  ttl: string;
}
export interface SignCertificateResponse {
  certChain: string;
  bundle: string;
  notAfter: number;
  spiffeId: string;
}
export interface GetBundleResponse {
  bundle: string;
}

let cached: grpc.ServiceClientConstructor | undefined;

/** The CertificateAuthority service, loaded from core/proto/ca.proto at runtime (once per process). */
export function caServiceDefinition(): grpc.ServiceClientConstructor {
  if (cached === undefined) {
    const definition = loadSync(CA_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { ztmesh: { ca: { v1: { CertificateAuthority: grpc.ServiceClientConstructor } } } };
    cached = pkg.ztmesh.ca.v1.CertificateAuthority;
  }
  return cached;
}

/** The largest CSR the CA reads; larger ones are refused with RESOURCE_EXHAUSTED. */
export const MAX_CSR_BYTES = 64 * 1024;
