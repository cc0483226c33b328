import { createHash } from 'node:crypto';
import { compileRule, matchRule, type CompiledRule } from './compiled-rule.ts';
import type { Authorizer, Decision } from './decision.ts';
import { compileDenyList, type DenyList } from './deny-list.ts';
import type { MeshConfig } from './mesh-config.ts';
import { REASONS } from './reasons.ts';
import { requestView, type RequestView } from './request-view.ts';
import type { RequestAttributes } from './request.ts';
import { RuleIndex } from './rule-index.ts';
import { isDryRun, policyKey, type AuthorizationPolicy, type PolicyAction } from './schema.ts';
import { selectionMismatch, type Workload } from './selection.ts';

/**
 * Compiles the policies that apply to one workload into an immutable Authorizer. Selection happens
 * here, once: a policy applies when it is in the workload's namespace (or the mesh's root
 * namespace) and its selector's labels are all on the workload. Evaluation, as Istio's:
 *  1. a peer on the mesh deny list is denied;
 *  2. any matching DENY policy denies;
 *  3. AUDIT policies only set `audit`; dry-run policies only fill `dryRun`;
 *  4. if any ALLOW policy selects the workload, the request must match one of them
 *     (an ALLOW policy without rules, `spec: {}`, matches nothing);
 *  5. otherwise the mesh's defaultAction (DENY unless configured ALLOW).
 */

export interface PolicyTraceRule {
  readonly index: number;
  readonly matched: boolean;
  /** Why the rule did not match (empty when it matched). */
  readonly why: readonly string[];
}

export interface PolicyTrace {
  readonly policy: string;
  readonly action: PolicyAction;
  readonly dryRun: boolean;
  /** Why the policy does not apply to this workload; undefined when it does. */
  readonly notSelected: string | undefined;
  readonly rules: readonly PolicyTraceRule[];
}

export interface Explanation {
  readonly decision: Decision;
  readonly policies: readonly PolicyTrace[];
}

export interface PolicyAuthorizer extends Authorizer {
  /** NS/NAME of the policies that apply to the workload, in evaluation order. */
  readonly selected: readonly string[];
  readonly denyList: DenyList;
  /** Lowercase names of the request headers the selected policies' `when` conditions read. */
  readonly referencedHeaders: readonly string[];
  /** The decision from `evaluate` itself, plus a per-policy, per-rule trace of the same matcher. */
  explain(request: RequestAttributes): Explanation;
}

interface Selected {
  readonly policy: AuthorizationPolicy;
  readonly key: string;
  readonly dryRun: boolean;
  readonly rules: readonly CompiledRule[];
}

const NO_DRY_RUN: Decision['dryRun'] = Object.freeze([]);

const DENIED = 'ZTMESH_POLICY_DENIED';

function decision(d: Decision['decision'], policy: string | null, rule: number | null, reason: string, audit: boolean, dryRun: Decision['dryRun'], code?: string): Decision {
  return Object.freeze(code === undefined ? { decision: d, policy, rule, reason, audit, dryRun } : { decision: d, policy, rule, reason, audit, dryRun, code });
}

export function compilePolicies(policies: readonly AuthorizationPolicy[], workload: Workload, mesh: MeshConfig): PolicyAuthorizer {
  const sorted = [...policies].sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : policyKey(a) > policyKey(b) ? 1 : 0));
  const selected: Selected[] = [];
  const groups: Record<PolicyAction, CompiledRule[]> = { ALLOW: [], DENY: [], AUDIT: [] };
  const dryRunGroups: Record<PolicyAction, CompiledRule[]> = { ALLOW: [], DENY: [], AUDIT: [] };
  let allowPolicies = 0;
  for (const policy of sorted) {
    if (selectionMismatch(policy, workload, mesh.rootNamespace) !== undefined) continue;
    const key = policyKey(policy);
    const action = policy.spec.action;
    const dryRun = isDryRun(policy);
    const target = dryRun ? dryRunGroups[action] : groups[action];
    const rules = (policy.spec.rules ?? []).map((rule, ruleIndex) => {
      const compiled = compileRule(rule, { policy: key, policyIndex: selected.length, ruleIndex, ordinal: target.length, action });
      target.push(compiled);
      return compiled;
    });
    if (action === 'ALLOW' && !dryRun) allowPolicies++;
    selected.push({ policy, key, dryRun, rules });
  }
  const deny = new RuleIndex(groups.DENY, true);
  const allow = new RuleIndex(groups.ALLOW, false);
  const audit = new RuleIndex(groups.AUDIT, false);
  // Decisions without audit or dry-run entries are shared, frozen objects: no allocation per request.
  const denyDecisions = groups.DENY.map((r) => decision('DENY', r.policy, r.ruleIndex, REASONS.deniedByPolicy, false, NO_DRY_RUN, DENIED));
  const allowDecisions = groups.ALLOW.map((r) => decision('ALLOW', r.policy, r.ruleIndex, REASONS.allowedByPolicy, false, NO_DRY_RUN));
  const fixed = {
    denyListed: decision('DENY', null, null, REASONS.denyListed, false, NO_DRY_RUN, 'ZTMESH_POLICY_DENY_LISTED'),
    noAllow: decision('DENY', null, null, REASONS.noAllowMatched, false, NO_DRY_RUN, DENIED),
    default: mesh.defaultAction === 'ALLOW'
      ? decision('ALLOW', null, null, REASONS.defaultAllow, false, NO_DRY_RUN)
      : decision('DENY', null, null, REASONS.defaultDeny, false, NO_DRY_RUN, DENIED),
  };
  const dryRunPolicies = selected.filter((s) => s.dryRun && s.policy.spec.action !== 'AUDIT');
  const denyList = compileDenyList(mesh.denyList);
  const version = createHash('sha256')
    .update(JSON.stringify({ policies: selected.map((s) => s.policy), workload, mesh }))
    .digest('hex')
    .slice(0, 16);

  function dryRunOf(view: RequestView): Decision['dryRun'] {
    if (dryRunPolicies.length === 0) return NO_DRY_RUN;
    // Each dry-run policy's own verdict: a DENY policy would deny what it matches; an ALLOW
    // policy would allow what it matches and (if it were the only ALLOW) deny the rest.
    return dryRunPolicies.flatMap((s) => {
      const matched = s.rules.some((r) => matchRule(r, view));
      if (s.policy.spec.action === 'DENY') return matched ? [{ policy: s.key, decision: 'DENY' as const }] : [];
      return [{ policy: s.key, decision: matched ? ('ALLOW' as const) : ('DENY' as const) }];
    });
  }

  /** The shared decision, or a copy carrying this request's audit flag and dry-run verdicts. */
  function finish(base: Decision, auditHit: boolean, dry: Decision['dryRun']): Decision {
    if (!auditHit && dry.length === 0) return base;
    return decision(base.decision, base.policy, base.rule, base.reason, auditHit, dry, base.code);
  }

  function evaluate(request: RequestAttributes): Decision {
    const view = requestView(request);
    const auditHit = audit.size > 0 && audit.firstMatch(view) !== undefined;
    const dry = dryRunOf(view);
    if (request.principal !== undefined && denyList.size > 0 && denyList.hasSpiffeId(request.principal)) {
      return finish(fixed.denyListed, auditHit, dry);
    }
    const denied = deny.firstMatch(view);
    if (denied !== undefined) return finish(denyDecisions[denied.ordinal]!, auditHit, dry);
    if (allowPolicies > 0) {
      const allowed = allow.firstMatch(view);
      return finish(allowed === undefined ? fixed.noAllow : allowDecisions[allowed.ordinal]!, auditHit, dry);
    }
    return finish(fixed.default, auditHit, dry);
  }

  function explain(request: RequestAttributes): Explanation {
    const result = evaluate(request);
    const view = requestView(request);
    const traces: PolicyTrace[] = sorted.map((policy) => {
      const key = policyKey(policy);
      const notSelected = selectionMismatch(policy, workload, mesh.rootNamespace);
      const s = selected.find((x) => x.key === key);
      const rules = (s?.rules ?? []).map((rule) => {
        const why: string[] = [];
        const matched = matchRule(rule, view, why);
        return { index: rule.ruleIndex, matched, why };
      });
      return { policy: key, action: policy.spec.action, dryRun: isDryRun(policy), notSelected, rules };
    });
    return { decision: result, policies: traces };
  }

  const referencedHeaders = [...new Set(selected.flatMap((s) => s.rules.flatMap((r) => r.headerNames)))].sort();
  return Object.freeze({ version, selected: selected.map((s) => s.key), denyList, referencedHeaders, evaluate, explain });
}

/** An authorizer for a workload without a valid policy set: every request is denied (fail closed). */
export function failClosedAuthorizer(why: string, mesh: MeshConfig): PolicyAuthorizer {
  const denied = decision('DENY', null, null, `${REASONS.invalidPolicySet}: ${why}`, false, NO_DRY_RUN, 'ZTMESH_POLICY_INVALID_SET');
  return Object.freeze({
    version: 'invalid',
    selected: [],
    referencedHeaders: [],
    denyList: compileDenyList(mesh.denyList),
    evaluate: () => denied,
    explain: () => ({ decision: denied, policies: [] }),
  });
}
