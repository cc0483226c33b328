import { zodIssues } from '../../core/config/load.ts';
import { meshConfigSchema, type MeshConfig } from '../../core/policy/mesh-config.ts';
import { objectKey, type KubeObject, type StatusCondition } from './kube-object.ts';

type Condition = Omit<StatusCondition, 'lastTransitionTime'>;

/** The one MeshConfig instance the operator reads; others are refused. */
export const MESH_CONFIG_NAME = 'default';

export interface MeshConfigOutcome {
  /** The mesh config in force. */
  readonly meshConfig: MeshConfig;
  readonly conditions: ReadonlyMap<string, Condition>;
}

/**
 * The mesh-wide settings: the MeshConfig named `default` (cluster-scoped), validated with the
 * sidecar's schema. An invalid one is not Accepted and the last good config stays in force (an
 * invalid edit must not silently drop the deny list); with none, the built-in defaults (DENY) with
 * the operator's trust domain.
 */
export function reconcileMeshConfig(objects: readonly KubeObject[], lastGood: MeshConfig | undefined, trustDomain: string): MeshConfigOutcome {
  const conditions = new Map<string, Condition>();
  let meshConfig: MeshConfig | undefined;
  let sawDefault = false;
  for (const obj of objects) {
    const key = objectKey(obj);
    const generation = obj.metadata?.generation;
    const gen = generation !== undefined ? { observedGeneration: generation } : {};
    if (obj.metadata?.name !== MESH_CONFIG_NAME) {
      conditions.set(key, { type: 'Accepted', status: 'False', reason: 'Ignored', message: `only the MeshConfig named ${MESH_CONFIG_NAME} is read`, field: 'metadata.name', ...gen });
      continue;
    }
    sawDefault = true;
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const result = meshConfigSchema.safeParse(typeof spec === 'object' && spec !== null && !Array.isArray(spec) && !('trustDomain' in spec) ? { ...spec, trustDomain } : spec);
    if (!result.success) {
      const issues = zodIssues(result.error);
      conditions.set(key, { type: 'Accepted', status: 'False', reason: 'Invalid', message: `${issues.map((i) => `spec.${i.path}: ${i.message}`).join('; ')}; the last good config stays in force`, field: `spec.${issues[0]?.path ?? ''}`, ...gen });
      continue;
    }
    if (result.data.trustDomain !== trustDomain) {
      conditions.set(key, { type: 'Accepted', status: 'False', reason: 'Invalid', message: `spec.trustDomain ${result.data.trustDomain} is not the operator's trust domain ${trustDomain}`, field: 'spec.trustDomain', ...gen });
      continue;
    }
    meshConfig = result.data;
    conditions.set(key, { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'mesh config in force', ...gen });
  }
  if (meshConfig === undefined) {
    meshConfig = sawDefault && lastGood !== undefined ? lastGood : meshConfigSchema.parse({ trustDomain });
  }
  return { meshConfig, conditions };
}
