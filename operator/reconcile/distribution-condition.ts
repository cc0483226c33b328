import { policyKey } from '../../core/policy/schema.ts';
import type { DesiredState } from './desired-state.ts';
import type { StatusCondition } from './kube-object.ts';

type Condition = Omit<StatusCondition, 'lastTransitionTime'>;

/** What the sidecars of one workload last answered (from the distribution server). */
export interface WorkloadAcks {
  readonly ackedVersions: readonly string[];
  readonly rejected: readonly { readonly version: string; readonly reason: string }[];
}

/**
 * The `Distributed` condition of each accepted policy: False (Rejected, with the sidecar's reason)
 * when a sidecar refused the snapshot carrying it; True when every connected sidecar of every
 * workload it selects acknowledged the current snapshot; Unknown (Pending) otherwise.
 */
export function reconcileDistribution(desired: DesiredState, acks: ReadonlyMap<string, WorkloadAcks>, acceptedKeys: Iterable<string>, generations: ReadonlyMap<string, number | undefined>): Map<string, Condition> {
  const byPolicy = new Map<string, { selected: number; acked: number; pending: number; rejected: string | undefined }>();
  for (const key of acceptedKeys) byPolicy.set(key, { selected: 0, acked: 0, pending: 0, rejected: undefined });
  for (const [wkey, workload] of desired) {
    const a = acks.get(wkey);
    for (const policy of workload.snapshot.policies) {
      const entry = byPolicy.get(policyKey(policy));
      if (entry === undefined) continue;
      entry.selected++;
      const rejected = a?.rejected.find((r) => r.version === workload.snapshot.version);
      if (rejected !== undefined) entry.rejected ??= `pod ${wkey} refused version ${rejected.version}: ${rejected.reason}`;
      else if (a !== undefined && a.ackedVersions.length > 0 && a.ackedVersions.every((v) => v === workload.snapshot.version)) entry.acked++;
      else if (a !== undefined) entry.pending++;
    }
  }
  const out = new Map<string, Condition>();
  for (const [key, e] of byPolicy) {
    const generation = generations.get(key);
    const gen = generation !== undefined ? { observedGeneration: generation } : {};
    if (e.rejected !== undefined) out.set(key, { type: 'Distributed', status: 'False', reason: 'Rejected', message: e.rejected.slice(0, 1024), ...gen });
    else if (e.pending > 0) out.set(key, { type: 'Distributed', status: 'Unknown', reason: 'Pending', message: `${e.acked} of ${e.selected} selected workloads acknowledged`, ...gen });
    else out.set(key, { type: 'Distributed', status: 'True', reason: 'Acknowledged', message: `selects ${e.selected} workload(s); every connected sidecar acknowledged`, ...gen });
  }
  return out;
}
