import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { kubernetesSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';

/** Turns a bearer ServiceAccount token into the workload's SPIFFE ID, or throws. */
export interface ServiceAccountTokenReviewer {
  review(token: string): Promise<SpiffeId>;
}

const SA_USERNAME = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;

function rejected(reason: string): MeshError {
  return new MeshError('ZTMESH_CA_SA_TOKEN_REJECTED', `ServiceAccount token rejected: ${reason}`, { details: { reason } });
}

/**
 * Checks a projected ServiceAccount token with the Kubernetes TokenReview API, bound to `audience`
 * (e.g. `ztmesh-ca`): authenticated, the audience among the token's, a ServiceAccount user.
 * The workload's identity is `spiffe://<trustDomain>/ns/<namespace>/sa/<service-account>`.
 */
export function kubernetesTokenReviewer(options: { kubeConfig: KubeConfig; audience: string; trustDomain: string; timeoutMs?: number }): ServiceAccountTokenReviewer {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const api = options.kubeConfig.makeApiClient(AuthenticationV1Api);
  return {
    async review(token: string): Promise<SpiffeId> {
      let review;
      let timer: NodeJS.Timeout | undefined;
      try {
        // A hung API server must not hold CA calls forever: give up after timeoutMs.
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        });
        review = await Promise.race([
          api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [options.audience] } } }),
          timedOut,
        ]);
      } catch (err) {
        // The client's error may quote the request; keep only its status code.
        const code = (err as { code?: unknown }).code;
        throw new MeshError('ZTMESH_CA_TOKEN_REVIEW_FAILED', `TokenReview call failed${typeof code === 'number' ? ` (HTTP ${code})` : ''}`, {
          details: { httpStatus: typeof code === 'number' ? code : undefined },
        });
      } finally {
        clearTimeout(timer);
      }
      const status = review.status;
      if (status?.authenticated !== true) throw rejected(status?.error !== undefined ? 'not authenticated by the API server' : 'not authenticated');
      if (!(status.audiences ?? []).includes(options.audience)) throw rejected(`audience ${options.audience} not granted`);
      const m = SA_USERNAME.exec(status.user?.username ?? '');
      if (m === null) throw rejected('not a ServiceAccount token');
      return kubernetesSpiffeId(options.trustDomain, m[1]!, m[3]!);
    },
  };
}
