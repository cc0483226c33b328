import { createHash } from 'node:crypto';
import type { MeshConfig } from '../../core/policy/mesh-config.ts';
import { policyKey, type AuthorizationPolicy } from '../../core/policy/schema.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { OutboundSelection } from './outbound-services.ts';

/** What one sidecar must enforce: the policies selecting its workload, and the mesh config. */
export interface WorkloadSnapshot {
  /** Content hash: equal versions carry equal content, across operator restarts and replicas. */
  readonly version: string;
  readonly policies: readonly AuthorizationPolicy[];
  readonly meshConfig: MeshConfig;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One pod of the mesh as the operator sees it, with the snapshot its sidecar must get. */
export interface DesiredWorkload {
  readonly namespace: string;
  readonly podName: string;
  readonly serviceAccount: string;
  readonly identity: SpiffeId;
  readonly labels: Readonly<Record<string, string>>;
  readonly snapshot: WorkloadSnapshot;
  /** The pod's `ztmesh.io/outbound-services` selection (undefined: every meshed Service). */
  readonly outbound?: OutboundSelection;
}

/** Desired workloads keyed "NS/POD". */
export type DesiredState = ReadonlyMap<string, DesiredWorkload>;

export function workloadKey(namespace: string, podName: string): string {
  return `${namespace}/${podName}`;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** Builds a snapshot with its content version (policies sorted by NS/NAME, keys sorted). */
export function buildSnapshot(input: { policies: readonly AuthorizationPolicy[]; meshConfig: MeshConfig; namespace: string; labels: Readonly<Record<string, string>> }): WorkloadSnapshot {
  const policies = [...input.policies].sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : policyKey(a) > policyKey(b) ? 1 : 0));
  const body = JSON.stringify(canonical({ policies, meshConfig: input.meshConfig, namespace: input.namespace, labels: input.labels }));
  const version = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return Object.freeze({ version, policies, meshConfig: input.meshConfig, namespace: input.namespace, labels: input.labels });
}
