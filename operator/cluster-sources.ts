import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../core/telemetry/logger.ts';
import type { ObservedSources } from './control-loop.ts';
import { ResilientInformer, type InformerHealth } from './kube/resilient-informer.ts';

export interface ClusterSources extends ObservedSources {
  readonly services: { list(): readonly KubernetesObject[] };
  readonly endpointSlices: { list(): readonly KubernetesObject[] };
  start(): Promise<void>;
  health(): InformerHealth[];
  stop(): Promise<void>;
}

/**
 * The watches the operator reconciles from (AuthorizationPolicies, MeshConfigs, Pods, Namespaces,
 * ServiceAccounts, and for endpoint discovery Services and EndpointSlices), each a
 * ResilientInformer; any change calls `onChange`.
 */
export function clusterSources(options: { kubeConfig: KubeConfig; logger: Logger; onChange: () => void; backoff?: { initialMs: number; maxMs: number }; resyncMs?: number }): ClusterSources {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
  const make = (name: string, path: string, list: () => Promise<KubernetesListObject<KubernetesObject>>) =>
    new ResilientInformer<KubernetesObject>({ name, path, list, kubeConfig: options.kubeConfig, logger: options.logger, onChange: options.onChange, ...(options.backoff ? { backoff: options.backoff } : {}), ...(options.resyncMs !== undefined ? { resyncMs: options.resyncMs } : {}) });
  const crd = (plural: string) => () => custom.listClusterCustomObject({ group: 'ztmesh.io', version: 'v1alpha1', plural }) as Promise<KubernetesListObject<KubernetesObject>>;
  const policies = make('authorizationpolicies', '/apis/ztmesh.io/v1alpha1/authorizationpolicies', crd('authorizationpolicies'));
  const meshConfigs = make('meshconfigs', '/apis/ztmesh.io/v1alpha1/meshconfigs', crd('meshconfigs'));
  const pods = make('pods', '/api/v1/pods', () => core.listPodForAllNamespaces());
  const namespaces = make('namespaces', '/api/v1/namespaces', () => core.listNamespace());
  const serviceAccounts = make('serviceaccounts', '/api/v1/serviceaccounts', () => core.listServiceAccountForAllNamespaces());
  const services = make('services', '/api/v1/services', () => core.listServiceForAllNamespaces());
  const endpointSlices = make('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces());
  const all = [policies, meshConfigs, pods, namespaces, serviceAccounts, services, endpointSlices];
  return {
    policies,
    meshConfigs,
    pods,
    namespaces,
    serviceAccounts,
    services,
    endpointSlices,
    synced: () => all.every((i) => i.health().synced),
    health: () => all.map((i) => i.health()),
    async start() {
      await Promise.all(all.map((i) => i.start()));
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
