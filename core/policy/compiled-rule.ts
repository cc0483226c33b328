import { compileIpList } from './cidr.ts';
import { compilePathList } from './path-match.ts';
import { compilePrincipalList } from './principal-match.ts';
import type { RequestView } from './request-view.ts';
import type { PolicyAction, PolicyCondition, PolicyOperation, PolicyRule, PolicySource } from './schema.ts';
import { compileStringList, type StringListMatcher } from './string-match.ts';
import { isHttpOnlyKey, parseWhenKey, type WhenKey } from './when-key.ts';

/**
 * One rule of one policy, compiled into closures over precomputed matchers. `matchRule` is the only
 * matching code: the sidecar calls it without a trace, `policy explain` with one, so the two cannot
 * disagree.
 */

interface Condition {
  /** Field name as written: "principals", "notPaths", "when request.headers[x-env]". */
  readonly field: string;
  readonly patterns: readonly string[];
  /** A `not*` field: the condition holds when the value does NOT match. */
  readonly negated: boolean;
  readonly httpOnly: boolean;
  readonly test: (view: RequestView) => boolean;
  readonly actual: (view: RequestView) => string;
}

export interface CompiledRule {
  readonly policy: string;
  readonly policyIndex: number;
  readonly ruleIndex: number;
  /** Global order within its action group: the lowest matching ordinal decides. */
  readonly ordinal: number;
  readonly action: PolicyAction;
  /** Any HTTP-only field: on TCP an ALLOW/AUDIT rule with one never matches (Istio drops it). */
  readonly httpOnly: boolean;
  /** OR over `from`, each an AND of its conditions; empty means no `from`. */
  readonly from: readonly (readonly Condition[])[];
  readonly to: readonly (readonly Condition[])[];
  readonly when: readonly Condition[];
  /** Lowercase names of the headers this rule's `when` conditions read. */
  readonly headerNames: readonly string[];
  readonly source: PolicyRule;
}

const show = (v: string | undefined): string => (v === undefined ? '(none)' : JSON.stringify(v));

function cond(
  field: string,
  patterns: readonly (string | number)[],
  httpOnly: boolean,
  value: (view: RequestView) => string | undefined,
  matcher: StringListMatcher,
): Condition {
  const negated = field.startsWith('not');
  const matches = (view: RequestView): boolean => {
    const v = value(view);
    return v !== undefined && matcher(v);
  };
  return {
    field,
    patterns: patterns.map(String),
    negated,
    httpOnly,
    test: negated ? (view) => !matches(view) : matches,
    actual: (view) => show(value(view)),
  };
}

const principalOf = (v: RequestView) => v.principal;
const requestPrincipalOf = (v: RequestView) => v.attrs.requestPrincipal;
const namespaceOf = (v: RequestView) => v.namespace;
const sourceIpOf = (v: RequestView) => v.sourceIp;
const methodOf = (v: RequestView) => v.attrs.method;
const pathOf = (v: RequestView) => v.attrs.path;
const hostOf = (v: RequestView) => v.attrs.host;
const portOf = (v: RequestView) => String(v.attrs.destinationPort);

function portMatcher(ports: readonly (string | number)[]): StringListMatcher {
  const set = new Set(ports.map((p) => String(Number(p))));
  return (v) => set.has(v);
}

function sourceConditions(s: PolicySource): Condition[] {
  const out: Condition[] = [];
  if (s.principals) out.push(cond('principals', s.principals, false, principalOf, compilePrincipalList(s.principals)));
  if (s.notPrincipals) out.push(cond('notPrincipals', s.notPrincipals, false, principalOf, compilePrincipalList(s.notPrincipals)));
  if (s.requestPrincipals) out.push(cond('requestPrincipals', s.requestPrincipals, true, requestPrincipalOf, compileStringList(s.requestPrincipals)));
  if (s.notRequestPrincipals) out.push(cond('notRequestPrincipals', s.notRequestPrincipals, true, requestPrincipalOf, compileStringList(s.notRequestPrincipals)));
  if (s.namespaces) out.push(cond('namespaces', s.namespaces, false, namespaceOf, compileStringList(s.namespaces)));
  if (s.notNamespaces) out.push(cond('notNamespaces', s.notNamespaces, false, namespaceOf, compileStringList(s.notNamespaces)));
  if (s.ipBlocks) out.push(cond('ipBlocks', s.ipBlocks, false, sourceIpOf, compileIpList(s.ipBlocks)));
  if (s.notIpBlocks) out.push(cond('notIpBlocks', s.notIpBlocks, false, sourceIpOf, compileIpList(s.notIpBlocks)));
  return out;
}

function operationConditions(o: PolicyOperation): Condition[] {
  const out: Condition[] = [];
  if (o.methods) out.push(cond('methods', o.methods, true, methodOf, compileStringList(o.methods)));
  if (o.notMethods) out.push(cond('notMethods', o.notMethods, true, methodOf, compileStringList(o.notMethods)));
  if (o.paths) out.push(cond('paths', o.paths, true, pathOf, compilePathList(o.paths)));
  if (o.notPaths) out.push(cond('notPaths', o.notPaths, true, pathOf, compilePathList(o.notPaths)));
  if (o.ports) out.push(cond('ports', o.ports, false, portOf, portMatcher(o.ports)));
  if (o.notPorts) out.push(cond('notPorts', o.notPorts, false, portOf, portMatcher(o.notPorts)));
  if (o.hosts) out.push(cond('hosts', o.hosts, true, hostOf, hostMatcher(o.hosts)));
  if (o.notHosts) out.push(cond('notHosts', o.notHosts, true, hostOf, hostMatcher(o.notHosts)));
  return out;
}

/**
 * Hosts compare case-insensitively (RFC 4343), ignoring one trailing dot, and a pattern without a
 * port also matches the host with any port: the Host header's port is the client's to choose, so
 * `notHosts: [admin.example.com]` cannot be sidestepped with `admin.example.com:80` or `ADMIN.example.com.`.
 */
function hostMatcher(patterns: readonly string[]): StringListMatcher {
  const m = compileStringList(patterns, true);
  return (host) => {
    if (m(host)) return true;
    let h = host;
    const colon = h.lastIndexOf(':');
    if (colon !== -1 && colon > h.lastIndexOf(']') && /^\d*$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
    if (h.endsWith('.')) h = h.slice(0, -1);
    return h !== host && m(h);
  };
}

/** A claim's values as strings: a string, each string/number/boolean of an array, or a scalar. */
function claimValues(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string[] | undefined {
  let cur: unknown = claims;
  for (const name of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  if (typeof cur === 'string') return [cur];
  if (typeof cur === 'number' || typeof cur === 'boolean') return [String(cur)];
  if (Array.isArray(cur)) return cur.filter((x) => ['string', 'number', 'boolean'].includes(typeof x)).map(String);
  return undefined;
}

function whenValues(key: WhenKey): (view: RequestView) => readonly string[] | undefined {
  const one = (f: (v: RequestView) => string | undefined) => (v: RequestView) => {
    const x = f(v);
    return x === undefined ? undefined : [x];
  };
  switch (key.kind) {
    case 'header': return one((v) => v.attrs.header(key.name));
    case 'claim': return (v) => claimValues(v.attrs.claims, key.path);
    case 'sourceIp': return one(sourceIpOf);
    case 'sourcePrincipal': return one(principalOf);
    case 'sourceNamespace': return one(namespaceOf);
    case 'destinationPort': return one(portOf);
    case 'requestPrincipal': return one(requestPrincipalOf);
    case 'audiences': return (v) => claimValues(v.attrs.claims, ['aud']);
    case 'presenter': return (v) => claimValues(v.attrs.claims, ['azp']);
  }
}

function whenMatcher(key: WhenKey, patterns: readonly string[]): StringListMatcher {
  if (key.kind === 'sourceIp') return compileIpList(patterns);
  if (key.kind === 'destinationPort') return portMatcher(patterns);
  if (key.kind === 'sourcePrincipal') return compilePrincipalList(patterns);
  return compileStringList(patterns);
}

function whenCondition(c: PolicyCondition): Condition {
  const key = parseWhenKey(c.key);
  if (typeof key === 'string') throw new Error(`unvalidated when key reached the compiler: ${key}`);
  const values = whenValues(key);
  const yes = c.values === undefined ? undefined : whenMatcher(key, c.values);
  const no = c.notValues === undefined ? undefined : whenMatcher(key, c.notValues);
  const patterns = [...(c.values ?? []), ...(c.notValues ?? []).map((v) => `!${v}`)];
  return {
    field: `when ${c.key}`,
    patterns,
    negated: false,
    httpOnly: isHttpOnlyKey(key),
    test: (view) => {
      const vs = values(view);
      if (yes !== undefined && (vs === undefined || !vs.some(yes))) return false;
      if (no !== undefined && vs !== undefined && vs.some(no)) return false;
      return true;
    },
    actual: (view) => {
      const vs = values(view);
      return vs === undefined ? '(none)' : JSON.stringify(vs.length === 1 ? vs[0] : vs);
    },
  };
}

export function compileRule(rule: PolicyRule, at: { policy: string; policyIndex: number; ruleIndex: number; ordinal: number; action: PolicyAction }): CompiledRule {
  const from = (rule.from ?? []).map((f) => sourceConditions(f.source));
  const to = (rule.to ?? []).map((t) => operationConditions(t.operation));
  const when = (rule.when ?? []).map(whenCondition);
  const httpOnly = [...from.flat(), ...to.flat(), ...when].some((c) => c.httpOnly);
  const headerNames = (rule.when ?? []).flatMap((c) => {
    const key = parseWhenKey(c.key);
    return typeof key !== 'string' && key.kind === 'header' ? [key.name] : [];
  });
  return { ...at, httpOnly, from, to, when, headerNames, source: rule };
}

function describeFailure(c: Condition, view: RequestView): string {
  return c.negated
    ? `${c.field} ${JSON.stringify(c.patterns)} matches ${c.actual(view)}`
    : `${c.field} ${JSON.stringify(c.patterns)} does not match ${c.actual(view)}`;
}

function allHold(conds: readonly Condition[], view: RequestView, deny: boolean, trace: string[] | undefined): boolean {
  for (const c of conds) {
    // On TCP, DENY rules ignore their HTTP-only fields (stricter); ALLOW rules never get here.
    if (!view.http && c.httpOnly && deny) continue;
    if (!c.test(view)) {
      trace?.push(describeFailure(c, view));
      return false;
    }
  }
  return true;
}

function anyHolds(groups: readonly (readonly Condition[])[], view: RequestView, deny: boolean, trace: string[] | undefined, what: string): boolean {
  if (groups.length === 0) return true;
  const local: string[] | undefined = trace === undefined ? undefined : [];
  for (const g of groups) if (allHold(g, view, deny, local)) return true;
  if (trace !== undefined && local !== undefined) trace.push(groups.length === 1 ? local[0]! : `no ${what} matched (${local.join('; ')})`);
  return false;
}

/**
 * Does `rule` match the request? `from` entries are ORed, `to` entries ORed, and from/to/when are
 * ANDed. With `trace`, the reason of a mismatch is appended (explain mode); the result is the same.
 */
export function matchRule(rule: CompiledRule, view: RequestView, trace?: string[]): boolean {
  const deny = rule.action === 'DENY';
  if (!view.http && rule.httpOnly && !deny) {
    trace?.push('the rule has HTTP-only fields and the request is a TCP connection');
    return false;
  }
  return (
    anyHolds(rule.from, view, deny, trace, 'source') &&
    anyHolds(rule.to, view, deny, trace, 'operation') &&
    allHold(rule.when, view, deny, trace)
  );
}
