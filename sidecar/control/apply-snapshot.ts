import { zodIssues } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { compilePolicies, type PolicyAuthorizer } from '../../core/policy/compile.ts';
import { meshConfigSchema, type MeshConfig } from '../../core/policy/mesh-config.ts';
import { authorizationPolicySchema, type AuthorizationPolicy } from '../../core/policy/schema.ts';
import type { PolicySnapshotMessage } from '../../operator/distribute/distribution-proto.ts';

/** A pushed snapshot, validated and compiled: ready to be put in force whole. */
export interface AppliedSnapshot {
  readonly version: string;
  readonly policies: readonly AuthorizationPolicy[];
  readonly meshConfig: MeshConfig;
  readonly authorizer: PolicyAuthorizer;
  /** When the operator built it and when this sidecar put it in force (Unix ms). */
  readonly generatedAt: number;
  readonly appliedAt: number;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MeshError('ZTMESH_CONTROL_SNAPSHOT_REJECTED', `${what} is not JSON`);
  }
}

/**
 * Validates a pushed snapshot with the same schemas as policy files (the sidecar trusts nothing it
 * receives), checks it is for this sidecar's namespace, and compiles it. Throws
 * ZTMESH_CONTROL_SNAPSHOT_REJECTED naming what is wrong: the caller NACKs and keeps its previous set.
 */
export function applySnapshot(message: PolicySnapshotMessage, ownNamespace: string, now: number): AppliedSnapshot {
  if (message.version === '') throw new MeshError('ZTMESH_CONTROL_SNAPSHOT_REJECTED', 'snapshot has no version');
  if (message.workloadNamespace !== ownNamespace) {
    throw new MeshError('ZTMESH_CONTROL_SNAPSHOT_REJECTED', `snapshot is for namespace ${JSON.stringify(message.workloadNamespace)}, this sidecar serves ${JSON.stringify(ownNamespace)}`);
  }
  const problems: string[] = [];
  const policies: AuthorizationPolicy[] = [];
  message.policiesJson.forEach((text, i) => {
    const result = authorizationPolicySchema.safeParse(parseJson(text, `policy ${i + 1}`));
    if (result.success) policies.push(result.data);
    else for (const issue of zodIssues(result.error)) problems.push(`policy ${i + 1}: ${issue.path}: ${issue.message}`);
  });
  const mesh = meshConfigSchema.safeParse(parseJson(message.meshConfigJson === '' ? '{}' : message.meshConfigJson, 'mesh config'));
  if (!mesh.success) for (const issue of zodIssues(mesh.error)) problems.push(`meshConfig: ${issue.path}: ${issue.message}`);
  if (problems.length > 0 || !mesh.success) {
    throw new MeshError('ZTMESH_CONTROL_SNAPSHOT_REJECTED', `invalid snapshot ${message.version}: ${problems.join('; ')}`, { details: { problems } });
  }
  let authorizer: PolicyAuthorizer;
  try {
    authorizer = compilePolicies(policies, { namespace: message.workloadNamespace, labels: { ...message.workloadLabels } }, mesh.data);
  } catch (err) {
    throw new MeshError('ZTMESH_CONTROL_SNAPSHOT_REJECTED', `snapshot ${message.version} does not compile: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return Object.freeze({ version: message.version, policies, meshConfig: mesh.data, authorizer, generatedAt: message.generatedAt, appliedAt: now });
}
