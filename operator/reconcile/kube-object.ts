/** The parts of a Kubernetes object the reconcilers read; everything else is carried through untouched. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string | Date;
    creationTimestamp?: string | Date;
  };
  spec?: unknown;
  status?: unknown;
}

/** One condition of a ztmesh resource's status (`.status.conditions[]`, a map keyed by type). */
export interface StatusCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  /** The offending field path when the object was not accepted. */
  readonly field?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface ResourceStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly StatusCondition[];
}

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === '' ? (obj.metadata?.name ?? '') : `${ns}/${obj.metadata?.name ?? ''}`;
}

function sameCondition(a: StatusCondition, b: Omit<StatusCondition, 'lastTransitionTime'>): boolean {
  return a.status === b.status && a.reason === b.reason && a.message === b.message && a.field === b.field && a.observedGeneration === b.observedGeneration;
}

/**
 * The conditions to write: each wanted condition keeps its previous lastTransitionTime when its
 * status did not change. Returns undefined when nothing changed at all (no write needed).
 */
export function nextStatus(current: unknown, wanted: { observedGeneration?: number; conditions: readonly Omit<StatusCondition, 'lastTransitionTime'>[] }, now: string): ResourceStatus | undefined {
  const previous = ((current as ResourceStatus | undefined)?.conditions ?? []) as readonly StatusCondition[];
  let changed = (current as ResourceStatus | undefined)?.observedGeneration !== wanted.observedGeneration || previous.length !== wanted.conditions.length;
  const conditions = wanted.conditions.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    if (before === undefined || !sameCondition(before, c)) changed = true;
    const lastTransitionTime = before !== undefined && before.status === c.status ? before.lastTransitionTime : now;
    const out: StatusCondition = { ...c, lastTransitionTime };
    if (out.field === undefined) delete (out as { field?: string }).field;
    return out;
  });
  if (!changed) return undefined;
  return wanted.observedGeneration === undefined ? { conditions } : { observedGeneration: wanted.observedGeneration, conditions };
}
