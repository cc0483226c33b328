import { kubernetesParts, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { workloadKey, type DesiredState, type DesiredWorkload } from '../reconcile/desired-state.ts';

export type SubscriptionVerdict =
  | { readonly ok: true; readonly workload: DesiredWorkload }
  | { readonly ok: false; readonly code: 'ZTMESH_CONTROL_PERMISSION_DENIED' | 'ZTMESH_CONTROL_UNKNOWN_WORKLOAD'; readonly reason: string };

/**
 * Least privilege for policy distribution: a sidecar whose SVID is spiffe://td/ns/NS/sa/SA may
 * subscribe only for a pod of namespace NS that runs under service account SA. The workload's
 * labels (and so which policies select it) come from the operator's view of that pod, never from
 * the sidecar. An identity that is not of the Kubernetes form gets nothing.
 */
export function authorizeSubscription(identity: SpiffeId, request: { namespace: string; podName: string }, desired: DesiredState): SubscriptionVerdict {
  const parts = kubernetesParts(identity);
  if (parts === undefined) {
    return { ok: false, code: 'ZTMESH_CONTROL_PERMISSION_DENIED', reason: `${identity} is not a workload identity (spiffe://<td>/ns/<ns>/sa/<sa>)` };
  }
  if (request.namespace !== parts.namespace) {
    return { ok: false, code: 'ZTMESH_CONTROL_PERMISSION_DENIED', reason: `${identity} may not subscribe for namespace ${JSON.stringify(request.namespace)}` };
  }
  const workload = desired.get(workloadKey(request.namespace, request.podName));
  if (workload === undefined) {
    return { ok: false, code: 'ZTMESH_CONTROL_UNKNOWN_WORKLOAD', reason: `no meshed pod ${request.namespace}/${request.podName} is known` };
  }
  if (workload.serviceAccount !== parts.serviceAccount) {
    return { ok: false, code: 'ZTMESH_CONTROL_PERMISSION_DENIED', reason: `pod ${request.namespace}/${request.podName} does not run as service account ${parts.serviceAccount}` };
  }
  return { ok: true, workload };
}
