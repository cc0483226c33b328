import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { createTestCa } from '../testing/test-ca.ts';
import { CallerAuthenticator } from './caller-authenticator.ts';
import { FakeKubeApi } from './fake-kube-api.ts';
import { kubernetesTokenReviewer, type ServiceAccountTokenReviewer } from './token-review.ts';

const TD = 'k8s.test';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('Kubernetes TokenReview', () => {
  let api: FakeKubeApi;
  let reviewer: ServiceAccountTokenReviewer;
  beforeAll(async () => {
    api = await FakeKubeApi.start();
    api.tokens.set('sa-good', { username: 'system:serviceaccount:shop:checkout', audiences: ['ztmesh-ca'] });
    api.tokens.set('sa-wrong-aud', { username: 'system:serviceaccount:shop:checkout', audiences: ['https://kubernetes.default.svc'] });
    api.tokens.set('user-token', { username: 'alice@example.com', audiences: ['ztmesh-ca'] });
    reviewer = kubernetesTokenReviewer({ kubeConfig: api.kubeConfig(), audience: 'ztmesh-ca', trustDomain: TD });
  });
  afterAll(() => api.close());

  it('maps a ServiceAccount token to spiffe://TD/ns/NS/sa/SA', async () => {
    expect(await reviewer.review('sa-good')).toBe(`spiffe://${TD}/ns/shop/sa/checkout`);
  });

  it('refuses a token bound to another audience', async () => {
    expect(await codeOf(reviewer.review('sa-wrong-aud'))).toBe('ZTMESH_CA_SA_TOKEN_REJECTED');
  });

  it('refuses an unknown token and a non-ServiceAccount user', async () => {
    expect(await codeOf(reviewer.review('nope'))).toBe('ZTMESH_CA_SA_TOKEN_REJECTED');
    expect(await codeOf(reviewer.review('user-token'))).toBe('ZTMESH_CA_SA_TOKEN_REJECTED');
  });

  it('reports an API failure as TOKEN_REVIEW_FAILED without quoting the token', async () => {
    api.failWith = 500;
    try {
      await reviewer.review('sa-good');
      expect.unreachable();
    } catch (err) {
      expect(errorCode(err)).toBe('ZTMESH_CA_TOKEN_REVIEW_FAILED');
      expect(JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details })).not.toContain('sa-good');
    } finally {
      api.failWith = undefined;
    }
  });

  it('gives up on a hung API server after the timeout', async () => {
    const quick = kubernetesTokenReviewer({ kubeConfig: api.kubeConfig(), audience: 'ztmesh-ca', trustDomain: TD, timeoutMs: 200 });
    api.hang = true;
    try {
      expect(await codeOf(quick.review('sa-good'))).toBe('ZTMESH_CA_TOKEN_REVIEW_FAILED');
    } finally {
      api.hang = false;
    }
  });

  it('the caller authenticator routes non-join bearer tokens to TokenReview', async () => {
    const ca = await createTestCa({ trustDomain: TD });
    const authn = new CallerAuthenticator({ authority: ca.authority, reviewer });
    expect(await authn.authenticate({ authorization: 'Bearer sa-good' })).toEqual({ spiffeId: `spiffe://${TD}/ns/shop/sa/checkout`, method: 'k8s-service-account' });
    expect(await codeOf(authn.authenticate({ authorization: 'Basic abc' }))).toBe('ZTMESH_CA_UNAUTHENTICATED');
    expect(await codeOf(authn.authenticate({}))).toBe('ZTMESH_CA_UNAUTHENTICATED');
    expect(await codeOf(authn.authenticate({ authorization: 'Bearer ztjt_x' }))).toBe('ZTMESH_CA_UNAUTHENTICATED');
    const noK8s = new CallerAuthenticator({ authority: ca.authority });
    expect(await codeOf(noK8s.authenticate({ authorization: 'Bearer sa-good' }))).toBe('ZTMESH_CA_UNAUTHENTICATED');
  });
});
