import { stringify } from 'yaml';
import { pathPatternError } from './path-match.ts';
import { principalPatternError } from './principal-match.ts';
import { API_VERSION, authorizationPolicySchema, type AuthorizationPolicy, type PolicyRule } from './schema.ts';

/** One observed API call pattern: what the inventory reports per (service, method, route). */
export interface ObservedCall {
  readonly service: string;
  readonly method: string;
  /** Route template; `{id}` stands for one identifier-like segment. */
  readonly route: string;
  /** Verified SPIFFE IDs of the callers seen. */
  readonly callers: readonly string[];
  /** Responses per status class (`2xx`: n); when given, a route never answered 1xx-3xx is left out (a scanner's 404s are no API). */
  readonly statusClasses?: Readonly<Record<string, number>>;
}

export interface SuggestOptions {
  readonly namespace: string;
  /** The label selecting each service's workload (default `app`: `app: <service>`). */
  readonly selectorLabel?: string;
}

export interface Suggestion {
  readonly policies: AuthorizationPolicy[];
  /** Observations left out, with why (no identity, a path or principal no policy can express). */
  readonly skipped: { readonly service: string; readonly method: string; readonly route: string; readonly reason: string }[];
}

const TEMPLATE_ID = /\{id\}/g;

function policyName(service: string): string {
  const base = service.toLowerCase().replace(/[^a-z0-9-.]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'service';
  return `${base.slice(0, 240)}-observed`;
}

/**
 * Least-privilege AuthorizationPolicies from the observed call graph: for each destination service,
 * one ALLOW policy whose rules name exactly the callers, methods and route paths that were seen
 * (`{id}` becomes the one-segment template `{*}`). One rule per (caller, method), listing its paths,
 * so that no caller gains a method it only used on another route. Each policy is validated with the
 * policy schema before it is returned. Pure; the caller prints `suggestionYaml`.
 */
export function suggestPolicies(calls: readonly ObservedCall[], options: SuggestOptions): Suggestion {
  const label = options.selectorLabel ?? 'app';
  const byService = new Map<string, Map<string, Map<string, Set<string>>>>(); // service -> caller -> method -> paths
  const skipped: Suggestion['skipped'][number][] = [];
  for (const call of calls) {
    const path = call.route.replace(TEMPLATE_ID, '{*}');
    const pathError = pathPatternError(path);
    if (pathError !== undefined) {
      skipped.push({ service: call.service, method: call.method, route: call.route, reason: `path: ${pathError}` });
      continue;
    }
    if (call.statusClasses !== undefined && !['1xx', '2xx', '3xx'].some((c) => (call.statusClasses![c] ?? 0) > 0)) {
      skipped.push({ service: call.service, method: call.method, route: call.route, reason: 'never answered with success (1xx-3xx)' });
      continue;
    }
    if (!/^[A-Z][A-Z0-9_-]{0,31}$/.test(call.method)) {
      skipped.push({ service: call.service, method: call.method, route: call.route, reason: 'not an HTTP method name' });
      continue;
    }
    for (const caller of call.callers) {
      if (!caller.startsWith('spiffe://') || principalPatternError(caller) !== undefined || caller.includes('*')) {
        skipped.push({ service: call.service, method: call.method, route: call.route, reason: `caller ${JSON.stringify(caller)} has no usable SPIFFE ID` });
        continue;
      }
      const callers = byService.get(call.service) ?? new Map<string, Map<string, Set<string>>>();
      byService.set(call.service, callers);
      const methods = callers.get(caller) ?? new Map<string, Set<string>>();
      callers.set(caller, methods);
      const paths = methods.get(call.method) ?? new Set<string>();
      methods.set(call.method, paths);
      paths.add(path);
    }
  }
  const policies: AuthorizationPolicy[] = [];
  for (const [service, callers] of [...byService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rules: PolicyRule[] = [];
    for (const [caller, methods] of [...callers].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const [method, paths] of [...methods].sort(([a], [b]) => (a < b ? -1 : 1))) {
        rules.push({ from: [{ source: { principals: [caller] } }], to: [{ operation: { methods: [method], paths: [...paths].sort() } }] });
      }
    }
    const parsed = authorizationPolicySchema.safeParse({
      apiVersion: API_VERSION,
      kind: 'AuthorizationPolicy',
      metadata: { name: policyName(service), namespace: options.namespace, labels: { 'ztmesh.io/generated-by': 'policy-suggest' } },
      spec: { selector: { matchLabels: { [label]: service } }, action: 'ALLOW', rules },
    });
    if (parsed.success) policies.push(parsed.data);
    else {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      skipped.push({ service, method: '*', route: '*', reason: `no valid policy can be written for this service (${why})` });
    }
  }
  return { policies, skipped };
}

/** The suggestion as a multi-document YAML stream, skipped observations as leading comments. */
export function suggestionYaml(s: Suggestion): string {
  const header = ['# AuthorizationPolicies suggested by `ztmesh policy suggest` from observed traffic.', '# Review them, then try them with `ztmesh policy simulate` and `ztmesh policy check`.'];
  for (const k of s.skipped) header.push(`# skipped: ${k.service} ${k.method} ${JSON.stringify(k.route)}: ${k.reason}`.replace(/[\r\n]/g, ' '));
  return `${header.join('\n')}\n${s.policies.map((p) => stringify(p, { lineWidth: 0 })).join('---\n')}`;
}
