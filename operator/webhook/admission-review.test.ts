import { describe, expect, it } from 'vitest';
import { loadChartValues } from '../inject/chart-values.ts';
import { injectOptionsFromValues } from '../inject/inject-options.ts';
import { reviewAdmission } from './admission-review.ts';

const options = injectOptionsFromValues(loadChartValues(), 'ztmesh-system');
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'p' } }, spec: { containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 8080 }] }] } };

function review(request: Record<string, unknown>, apiVersion = 'admission.k8s.io/v1'): unknown {
  return { apiVersion, kind: 'AdmissionReview', request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', operation: 'CREATE', object: pod, ...request } };
}

describe('reviewAdmission', () => {
  it('patches a Pod CREATE and echoes the uid', () => {
    const result = reviewAdmission(review({}), { options });
    expect(result.outcome).toBe('patched');
    expect(result.review.response).toMatchObject({ uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
  });

  it('leaves pods alone in a namespace the operator knows is not enabled', () => {
    const result = reviewAdmission(review({}), { options, namespaceEnabled: (ns) => (ns === 'shop' ? false : undefined) });
    expect(result.outcome).toBe('unchanged');
    expect(result.review.response.patch).toBeUndefined();
    expect(reviewAdmission(review({}), { options, namespaceEnabled: () => undefined }).outcome).toBe('patched');
  });

  it.each([
    ['UPDATE', review({ operation: 'UPDATE' }), 'unchanged'],
    ['a subresource', review({ subResource: 'status' }), 'invalid'],
    ['admission.k8s.io/v1beta1', review({}, 'admission.k8s.io/v1beta1'), 'invalid'],
    ['no namespace', review({ namespace: '' }), 'invalid'],
    ['an apps/v1 Deployment', review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), 'invalid'],
    ['a JSON array body', [], 'invalid'],
  ])('%s: allowed without a patch (%s)', (_name, body, outcome) => {
    const result = reviewAdmission(body, { options });
    expect(result.outcome).toBe(outcome);
    expect(result.review.response.allowed).toBe(true);
    expect(result.review.response.patch).toBeUndefined();
  });
});
