/**
 * Istio string matching for policy fields: exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`.
 * A list matches when any of its patterns does. Compiled once per policy snapshot into a set of
 * exact values plus short prefix/suffix lists, so matching a value costs one Set lookup in the
 * common case.
 */

export type StringListMatcher = (value: string) => boolean;

/** Why `pattern` is not a valid Istio string match, or undefined. */
export function stringPatternError(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty';
  const star = pattern.indexOf('*');
  if (star === -1 || pattern === '*') return undefined;
  if (pattern.indexOf('*', star + 1) !== -1) return `${JSON.stringify(pattern)}: '*' may appear only once, at the start or the end`;
  if (star !== 0 && star !== pattern.length - 1) return `${JSON.stringify(pattern)}: '*' is allowed only at the start or the end`;
  return undefined;
}

/** True when the pattern has no wildcard: it can be indexed by value. */
export function isExactPattern(pattern: string): boolean {
  return !pattern.includes('*');
}

/**
 * Compiles a validated pattern list. `fold` lowercases patterns and values (hosts compare
 * case-insensitively, RFC 4343); `prepare` rewrites each pattern (e.g. strips `spiffe://`).
 */
export function compileStringList(patterns: readonly string[], fold = false): StringListMatcher {
  let presence = false;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  for (const raw of patterns) {
    const p = fold ? raw.toLowerCase() : raw;
    if (p === '*') presence = true;
    else if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else if (p.startsWith('*')) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  if (presence) return () => true;
  if (prefixes.length === 0 && suffixes.length === 0) {
    if (exact.size === 1) {
      const only = exact.values().next().value as string;
      return fold ? (v) => v.toLowerCase() === only : (v) => v === only;
    }
    return fold ? (v) => exact.has(v.toLowerCase()) : (v) => exact.has(v);
  }
  return (value) => {
    const v = fold ? value.toLowerCase() : value;
    if (exact.has(v)) return true;
    for (const p of prefixes) if (v.startsWith(p)) return true;
    for (const s of suffixes) if (v.endsWith(s)) return true;
    return false;
  };
}
