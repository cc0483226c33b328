import { zodIssues } from '../../core/config/load.ts';
import { authorizationPolicySchema, DRY_RUN_ANNOTATIONS, type AuthorizationPolicy } from '../../core/policy/schema.ts';
import { objectKey, type KubeObject, type StatusCondition } from './kube-object.ts';

type Condition = Omit<StatusCondition, 'lastTransitionTime'>;

export interface PolicyAcceptance {
  /** Accepted policies keyed NS/NAME: the only ones that ever reach a sidecar. */
  readonly accepted: ReadonlyMap<string, AuthorizationPolicy>;
  /** The Accepted condition of every observed policy, keyed NS/NAME. */
  readonly conditions: ReadonlyMap<string, Condition>;
}

const MAX_MESSAGE = 1024;

/**
 * The document a stored AuthorizationPolicy object stands for: the server's bookkeeping
 * (uid, resourceVersion, managedFields, status...) dropped; of the annotations only the dry-run ones.
 */
export function policyDocument(obj: KubeObject): unknown {
  const meta = obj.metadata ?? {};
  const annotations = Object.fromEntries(Object.entries(meta.annotations ?? {}).filter(([k]) => (DRY_RUN_ANNOTATIONS as readonly string[]).includes(k)));
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      ...(meta.labels !== undefined ? { labels: meta.labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(obj.spec !== undefined ? { spec: obj.spec } : {}),
  };
}

/**
 * Validates every observed AuthorizationPolicy with the schema the sidecar and `policy check` use.
 * A policy that fails is not Accepted (reason Invalid, the first offending field, every problem in
 * the message) and is left out of every snapshot: it never reaches a sidecar.
 */
export function reconcilePolicyAcceptance(objects: readonly KubeObject[]): PolicyAcceptance {
  const accepted = new Map<string, AuthorizationPolicy>();
  const conditions = new Map<string, Condition>();
  for (const obj of objects) {
    const key = objectKey(obj);
    const generation = obj.metadata?.generation;
    const result = authorizationPolicySchema.safeParse(policyDocument(obj));
    if (result.success) {
      accepted.set(key, result.data);
      conditions.set(key, { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'the policy is valid and distributed to the workloads it selects', ...(generation !== undefined ? { observedGeneration: generation } : {}) });
      continue;
    }
    const issues = zodIssues(result.error);
    const message = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    conditions.set(key, {
      type: 'Accepted',
      status: 'False',
      reason: 'Invalid',
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
      field: issues[0]?.path ?? '(root)',
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    });
  }
  return { accepted, conditions };
}
