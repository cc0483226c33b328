import { matchRule, type CompiledRule } from './compiled-rule.ts';
import { principalNamespace, stripScheme } from './principal-match.ts';
import { isPathTemplate } from './path-match.ts';
import type { RequestView } from './request-view.ts';
import { isExactPattern } from './string-match.ts';

/**
 * The rules of one action group, indexed so that evaluation looks at the few rules that can match
 * instead of scanning them all: a rule whose every operation lists only exact paths is filed under
 * those paths; else a rule whose every source lists only exact principals is filed under those
 * principals; else a rule whose every source is confined to known namespaces (exact `namespaces`,
 * or principals `td/ns/<ns>/...`) is filed under those namespaces; else a rule confined to
 * namespace prefixes (`namespaces: [team-*]`) is filed under those prefixes; else a rule whose every
 * operation lists only exact or prefix paths (`/admin`, `/admin/*`) is filed under those paths and
 * prefixes; the rest (suffix wildcards, templates, rules without any of these) sit in a fallback
 * list. Each list is in ordinal order, and the match with the lowest ordinal wins, exactly as a
 * linear scan would decide.
 */
export class RuleIndex {
  readonly size: number;
  readonly #byPath = new Map<string, CompiledRule[]>();
  /** Every path-indexed rule: a DENY rule ignores paths on TCP, so there they are all candidates. */
  readonly #pathRules: CompiledRule[] = [];
  readonly #byPrincipal = new Map<string, CompiledRule[]>();
  readonly #byNamespace = new Map<string, CompiledRule[]>();
  readonly #byNamespacePrefix = new PrefixIndex();
  readonly #byPathPrefix = new PrefixIndex();
  readonly #fallback: CompiledRule[] = [];
  readonly #deny: boolean;

  constructor(rules: readonly CompiledRule[], deny: boolean) {
    this.size = rules.length;
    this.#deny = deny;
    for (const rule of rules) {
      const paths = exactPaths(rule);
      if (paths !== undefined) {
        for (const p of paths) push(this.#byPath, p, rule);
        this.#pathRules.push(rule);
        continue;
      }
      const principals = exactPrincipals(rule);
      if (principals !== undefined) {
        for (const p of principals) push(this.#byPrincipal, p, rule);
        continue;
      }
      const namespaces = exactNamespaces(rule);
      if (namespaces !== undefined) {
        for (const ns of namespaces) push(this.#byNamespace, ns, rule);
        continue;
      }
      const namespaceKeys = namespaceExactOrPrefixes(rule);
      if (namespaceKeys !== undefined) {
        for (const ns of namespaceKeys.exact) push(this.#byNamespace, ns, rule);
        for (const prefix of namespaceKeys.prefixes) this.#byNamespacePrefix.add(prefix, rule);
        continue;
      }
      const pathKeys = pathExactOrPrefixes(rule);
      if (pathKeys !== undefined) {
        for (const p of pathKeys.exact) push(this.#byPath, p, rule);
        for (const prefix of pathKeys.prefixes) this.#byPathPrefix.add(prefix, rule);
        this.#pathRules.push(rule);
        continue;
      }
      this.#fallback.push(rule);
    }
  }

  /** The matching rule with the lowest ordinal, or undefined. */
  firstMatch(view: RequestView): CompiledRule | undefined {
    if (this.size === 0) return undefined;
    let best = firstIn(this.#fallback, view, undefined);
    if (view.http) {
      const path = view.attrs.path;
      const byPath = path === undefined ? undefined : this.#byPath.get(path);
      if (byPath !== undefined) best = firstIn(byPath, view, best);
      if (path !== undefined && this.#byPathPrefix.size > 0) best = this.#byPathPrefix.firstMatch(path, view, best);
    } else if (this.#deny) {
      best = firstIn(this.#pathRules, view, best);
    }
    if (view.principal !== undefined) {
      const byPrincipal = this.#byPrincipal.get(view.principal);
      if (byPrincipal !== undefined) best = firstIn(byPrincipal, view, best);
      if (this.#byNamespace.size > 0 || this.#byNamespacePrefix.size > 0) {
        const ns = view.namespace;
        const byNamespace = ns === undefined ? undefined : this.#byNamespace.get(ns);
        if (byNamespace !== undefined) best = firstIn(byNamespace, view, best);
        if (ns !== undefined && this.#byNamespacePrefix.size > 0) best = this.#byNamespacePrefix.firstMatch(ns, view, best);
      }
    }
    return best;
  }
}

/**
 * Rules filed under literal prefixes of a value (`/admin/` of `/admin/*`). A lookup tries each
 * distinct prefix length once (`value.slice(0, n)` in a map), so its cost grows with the number of
 * different lengths, not with the number of rules.
 */
class PrefixIndex {
  readonly #byPrefix = new Map<string, CompiledRule[]>();
  /** Distinct prefix lengths, ascending. */
  readonly #lengths: number[] = [];

  get size(): number {
    return this.#byPrefix.size;
  }

  add(prefix: string, rule: CompiledRule): void {
    push(this.#byPrefix, prefix, rule);
    const lengths = this.#lengths;
    if (!lengths.includes(prefix.length)) {
      lengths.push(prefix.length);
      lengths.sort((a, b) => a - b);
    }
  }

  firstMatch(value: string, view: RequestView, best: CompiledRule | undefined): CompiledRule | undefined {
    const lengths = this.#lengths;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]!;
      if (n > value.length) break;
      const rules = this.#byPrefix.get(n === value.length ? value : value.slice(0, n));
      if (rules !== undefined) best = firstIn(rules, view, best);
    }
    return best;
  }
}

/** A literal prefix (`abc` of `abc*`), or undefined for exact, suffix and presence patterns. */
function literalPrefix(pattern: string): string | undefined {
  if (pattern.length < 2 || !pattern.endsWith('*') || pattern.indexOf('*') !== pattern.length - 1) return undefined;
  return pattern.slice(0, -1);
}

interface ExactOrPrefixes {
  readonly exact: Set<string>;
  readonly prefixes: Set<string>;
}

/** The exact paths and literal path prefixes a rule can only match (no suffixes, no templates), or undefined. */
function pathExactOrPrefixes(rule: CompiledRule): ExactOrPrefixes | undefined {
  const to = rule.source.to;
  if (to === undefined) return undefined;
  const out: ExactOrPrefixes = { exact: new Set(), prefixes: new Set() };
  for (const { operation } of to) {
    if (operation.paths === undefined) return undefined;
    for (const p of operation.paths) {
      if (isPathTemplate(p)) return undefined;
      if (isExactPattern(p)) {
        out.exact.add(p);
        continue;
      }
      const prefix = literalPrefix(p);
      if (prefix === undefined) return undefined;
      out.prefixes.add(prefix);
    }
  }
  return out;
}

/** The exact namespaces and namespace prefixes a rule's `namespaces` confine it to, or undefined. */
function namespaceExactOrPrefixes(rule: CompiledRule): ExactOrPrefixes | undefined {
  const from = rule.source.from;
  if (from === undefined) return undefined;
  const out: ExactOrPrefixes = { exact: new Set(), prefixes: new Set() };
  for (const { source } of from) {
    if (source.namespaces !== undefined) {
      for (const ns of source.namespaces) {
        if (isExactPattern(ns)) {
          out.exact.add(ns);
          continue;
        }
        const prefix = literalPrefix(ns);
        if (prefix === undefined) return undefined;
        out.prefixes.add(prefix);
      }
      continue;
    }
    if (source.principals === undefined) return undefined;
    for (const pattern of source.principals) {
      const ns = principalPatternNamespace(stripScheme(pattern));
      if (ns === undefined) return undefined;
      out.exact.add(ns);
    }
  }
  return out;
}

function firstIn(rules: readonly CompiledRule[], view: RequestView, best: CompiledRule | undefined): CompiledRule | undefined {
  const limit = best === undefined ? Infinity : best.ordinal;
  for (const rule of rules) {
    if (rule.ordinal >= limit) break;
    if (matchRule(rule, view)) return rule;
  }
  return best;
}

function push(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [rule]);
  else if (list[list.length - 1] !== rule) list.push(rule);
}

/** The exact paths a rule can only match, or undefined when it is not indexable by path. */
function exactPaths(rule: CompiledRule): Set<string> | undefined {
  const to = rule.source.to;
  if (to === undefined) return undefined;
  const out = new Set<string>();
  for (const { operation } of to) {
    if (operation.paths === undefined) return undefined;
    for (const p of operation.paths) {
      if (!isExactPattern(p) || isPathTemplate(p)) return undefined;
      out.add(p);
    }
  }
  return out;
}

/** The exact scheme-less principals a rule can only match, or undefined. */
function exactPrincipals(rule: CompiledRule): Set<string> | undefined {
  const from = rule.source.from;
  if (from === undefined) return undefined;
  const out = new Set<string>();
  for (const { source } of from) {
    if (source.principals === undefined) return undefined;
    for (const p of source.principals) {
      if (!isExactPattern(p)) return undefined;
      out.add(stripScheme(p));
    }
  }
  return out;
}

/**
 * The namespaces a rule's sources are confined to, or undefined: each source must list exact
 * `namespaces`, or principals that are exact Kubernetes-shaped IDs or `td/ns/<ns>/*` prefixes.
 */
function exactNamespaces(rule: CompiledRule): Set<string> | undefined {
  const from = rule.source.from;
  if (from === undefined) return undefined;
  const out = new Set<string>();
  for (const { source } of from) {
    if (source.namespaces !== undefined) {
      if (!source.namespaces.every(isExactPattern)) return undefined;
      for (const ns of source.namespaces) out.add(ns);
      continue;
    }
    if (source.principals === undefined) return undefined;
    for (const pattern of source.principals) {
      const ns = principalPatternNamespace(stripScheme(pattern));
      if (ns === undefined) return undefined;
      out.add(ns);
    }
  }
  return out;
}

/** `td/ns/foo/sa/x` and `td/ns/foo/*` -> foo; anything that could match other namespaces -> undefined. */
function principalPatternNamespace(bare: string): string | undefined {
  if (bare.startsWith('*')) return undefined;
  if (!bare.endsWith('*')) return principalNamespace(bare);
  const prefix = bare.slice(0, -1);
  const ns = principalNamespace(prefix);
  // The prefix must end right after "/ns/<ns>/" so the namespace cannot continue past it.
  if (ns === undefined || !prefix.endsWith(`/ns/${ns}/`) || prefix.indexOf('/') !== prefix.length - ns.length - 5) return undefined;
  return ns;
}
