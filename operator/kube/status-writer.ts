import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ResourceStatus } from '../reconcile/kube-object.ts';

/** Writes a ztmesh resource's status subresource. */
export interface StatusWriter {
  write(target: { plural: 'authorizationpolicies' | 'meshconfigs'; namespace: string | undefined; name: string }, status: ResourceStatus): Promise<void>;
}

/** The API adapter: a JSON patch of /status on the status subresource (the reconcilers stay pure). */
export function kubeStatusWriter(kubeConfig: KubeConfig): StatusWriter {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async write(target, status) {
      const body = [{ op: 'add', path: '/status', value: status }];
      if (target.namespace === undefined) {
        await api.patchClusterCustomObjectStatus({ group: 'ztmesh.io', version: 'v1alpha1', plural: target.plural, name: target.name, body });
      } else {
        await api.patchNamespacedCustomObjectStatus({ group: 'ztmesh.io', version: 'v1alpha1', namespace: target.namespace, plural: target.plural, name: target.name, body });
      }
    },
  };
}
