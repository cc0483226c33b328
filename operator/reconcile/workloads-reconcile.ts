import type { MeshConfig } from '../../core/policy/mesh-config.ts';
import type { AuthorizationPolicy } from '../../core/policy/schema.ts';
import { selectionMismatch } from '../../core/policy/selection.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { buildSnapshot, workloadKey, type DesiredState, type DesiredWorkload } from './desired-state.ts';
import type { KubeObject } from './kube-object.ts';
import { OUTBOUND_SERVICES_ANNOTATION, parseOutboundServices } from './outbound-services.ts';

/** The annotation the injector writes on every pod it gave a sidecar. */
export const INJECTED_ANNOTATION = 'ztmesh.io/status';

interface PodSpecPart {
  serviceAccountName?: string;
}
interface PodStatusPart {
  phase?: string;
}

/** True for a pod whose sidecar needs policies: injected, and not finished. */
export function isMeshedPod(pod: KubeObject): boolean {
  const phase = (pod.status as PodStatusPart | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return pod.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined && pod.metadata.name !== undefined && pod.metadata.namespace !== undefined;
}

/**
 * Observed pods + accepted policies + mesh config → what each meshed pod's sidecar must enforce:
 * its identity (namespace + service account) and exactly the policies selecting it (its namespace
 * or the root namespace, selector labels on the pod). Pure: the same input gives the same versions.
 */
export function reconcileWorkloads(input: { pods: readonly KubeObject[]; policies: Iterable<AuthorizationPolicy>; meshConfig: MeshConfig }): DesiredState {
  const policies = [...input.policies];
  const desired = new Map<string, DesiredWorkload>();
  for (const pod of input.pods) {
    if (!isMeshedPod(pod)) continue;
    const namespace = pod.metadata!.namespace!;
    const podName = pod.metadata!.name!;
    const serviceAccount = (pod.spec as PodSpecPart | undefined)?.serviceAccountName || 'default';
    const labels = Object.freeze({ ...(pod.metadata!.labels ?? {}) });
    const workload = { namespace, labels };
    const selected = policies.filter((p) => selectionMismatch(p, workload, input.meshConfig.rootNamespace) === undefined);
    desired.set(workloadKey(namespace, podName), {
      namespace,
      podName,
      serviceAccount,
      identity: kubernetesSpiffeId(input.meshConfig.trustDomain, namespace, serviceAccount),
      labels,
      snapshot: buildSnapshot({ policies: selected, meshConfig: input.meshConfig, namespace, labels }),
      outbound: parseOutboundServices(pod.metadata!.annotations?.[OUTBOUND_SERVICES_ANNOTATION], namespace),
    });
  }
  return desired;
}
