import type { AuthorizationPolicy } from './schema.ts';

/** The workload a policy set is compiled for: its namespace and pod labels. */
export interface Workload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Why `policy` does not apply to `workload`, or undefined when it does: it must live in the
 * workload's namespace or in the root namespace (mesh-wide), and every selector label must be on
 * the workload. No selector means every workload of that namespace (or of the mesh).
 */
export function selectionMismatch(policy: AuthorizationPolicy, workload: Workload, rootNamespace: string): string | undefined {
  const ns = policy.metadata.namespace;
  if (ns !== workload.namespace && ns !== rootNamespace) {
    return `policy namespace ${ns} is neither the workload's namespace ${workload.namespace} nor the root namespace ${rootNamespace}`;
  }
  const wanted = policy.spec.selector?.matchLabels ?? {};
  for (const [k, v] of Object.entries(wanted)) {
    if (!Object.hasOwn(workload.labels, k) || workload.labels[k] !== v) {
      return `selector ${k}=${v} does not match the workload's labels`;
    }
  }
  return undefined;
}
