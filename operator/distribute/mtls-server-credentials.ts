import * as grpc from '@grpc/grpc-js';

/** The PEM material of a TLS identity: chain (leaf first), PKCS#8 key, trust bundle. Holds a key: never log it. */
export interface PemIdentity {
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly bundlePem: string;
}

/**
 * gRPC server credentials for mutual TLS 1.3: a client certificate chaining to the bundle is
 * required at the handshake; the SPIFFE ID in it is checked per call. Swappable on rotation.
 */
export class MtlsServerCredentials extends grpc.ServerCredentials {
  constructor(identity: PemIdentity) {
    super({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, { cert: identity.certChainPem, key: identity.keyPem, ca: identity.bundlePem });
  }

  swap(identity: PemIdentity): void {
    this.updateSecureContextOptions({ cert: identity.certChainPem, key: identity.keyPem, ca: identity.bundlePem });
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}
