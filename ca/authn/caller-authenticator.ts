import { X509Certificate } from 'node:crypto';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { X509Authority } from '../issuer/x509-authority.ts';
import type { JoinTokenStore } from './join-token-store.ts';
import type { ServiceAccountTokenReviewer } from './token-review.ts';

export type AuthMethod = 'svid' | 'join-token' | 'k8s-service-account';

/** Who is calling, as established by one of the CA's authentication methods. */
export interface AuthenticatedCaller {
  readonly spiffeId: SpiffeId;
  readonly method: AuthMethod;
}

/** What a call carries that can authenticate it; the bearer token is never logged. */
export interface CallCredentials {
  /** DER of the TLS client certificate, if the caller presented one (the TLS handshake proved the key). */
  readonly peerCertificate?: Uint8Array | undefined;
  /** The `authorization` metadata value. */
  readonly authorization?: string | undefined;
}

const JOIN_TOKEN_PREFIX = 'ztjt_';

/**
 * Authenticates a CA caller, in order: (1) a current SVID of this CA as the TLS client
 * certificate (renewal keeps the SPIFFE ID); (2) a one-time join token; (3) a Kubernetes
 * ServiceAccount token via TokenReview. A client certificate that does not verify is ignored
 * (the caller may still hold a token); nothing usable is UNAUTHENTICATED.
 */
export class CallerAuthenticator {
  readonly #authority: X509Authority;
  readonly #joinTokens: JoinTokenStore | undefined;
  readonly #reviewer: ServiceAccountTokenReviewer | undefined;

  constructor(options: { authority: X509Authority; joinTokens?: JoinTokenStore | undefined; reviewer?: ServiceAccountTokenReviewer | undefined }) {
    this.#authority = options.authority;
    this.#joinTokens = options.joinTokens;
    this.#reviewer = options.reviewer;
  }

  async authenticate(credentials: CallCredentials): Promise<AuthenticatedCaller> {
    if (credentials.peerCertificate !== undefined && credentials.peerCertificate.length > 0) {
      const svid = this.#verifyPeer(credentials.peerCertificate);
      if (svid !== undefined) return { spiffeId: svid, method: 'svid' };
    }
    const header = credentials.authorization;
    if (header !== undefined && header !== '') {
      const m = /^Bearer +(\S+)$/i.exec(header.trim());
      if (m === null) throw new MeshError('ZTMESH_CA_UNAUTHENTICATED', 'authorization metadata must be "Bearer <token>"');
      const token = m[1]!;
      if (token.startsWith(JOIN_TOKEN_PREFIX)) {
        if (this.#joinTokens === undefined) throw new MeshError('ZTMESH_CA_UNAUTHENTICATED', 'join tokens are not accepted by this CA');
        return { spiffeId: await this.#joinTokens.consume(token), method: 'join-token' };
      }
      if (this.#reviewer === undefined) throw new MeshError('ZTMESH_CA_UNAUTHENTICATED', 'ServiceAccount tokens are not accepted by this CA (TokenReview not configured)');
      return { spiffeId: await this.#reviewer.review(token), method: 'k8s-service-account' };
    }
    throw new MeshError('ZTMESH_CA_UNAUTHENTICATED', 'no credential: present a current SVID, a join token, or a ServiceAccount token');
  }

  #verifyPeer(der: Uint8Array): SpiffeId | undefined {
    try {
      return this.#authority.verifyLeaf(new X509Certificate(der)).spiffeId;
    } catch {
      return undefined;
    }
  }
}
