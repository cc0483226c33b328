import { compileStringList, stringPatternError, type StringListMatcher } from './string-match.ts';

/**
 * Principals as Istio writes them: `cluster.local/ns/foo/sa/bar`, with or without `spiffe://`,
 * with Istio's prefix / suffix / presence wildcards. Both the pattern and the peer's SPIFFE ID are
 * compared without the scheme. Namespaces (`namespaces`, `source.namespace`) are derived from the
 * ID's `/ns/<namespace>/` path, as Istio does.
 */

const SCHEME = 'spiffe://';
const PRINCIPAL_CHARS = /^[A-Za-z0-9._\-/*]+$/;

export function stripScheme(id: string): string {
  return id.startsWith(SCHEME) ? id.slice(SCHEME.length) : id;
}

/** Why `pattern` is not a valid principal pattern, or undefined. */
export function principalPatternError(pattern: string): string | undefined {
  const bare = stripScheme(pattern);
  const err = stringPatternError(bare);
  if (err !== undefined) return err;
  if (!PRINCIPAL_CHARS.test(bare)) {
    return `${JSON.stringify(pattern)} is not a SPIFFE ID pattern (trust-domain/path, optionally prefixed spiffe://, with '*' at the start or end)`;
  }
  if (bare !== '*' && !bare.startsWith('*') && bare.startsWith('/')) return `${JSON.stringify(pattern)}: the trust domain is missing`;
  if (/\/\/|(^|\/)\.\.?(\/|$)/.test(bare)) return `${JSON.stringify(pattern)}: empty or dot path segments can never match a SPIFFE ID`;
  return undefined;
}

export function compilePrincipalList(patterns: readonly string[]): StringListMatcher {
  return compileStringList(patterns.map(stripScheme));
}

/** The namespace of a scheme-less principal `td/ns/<ns>/...`, or undefined. */
export function principalNamespace(bare: string): string | undefined {
  const slash = bare.indexOf('/');
  if (slash === -1 || !bare.startsWith('/ns/', slash)) return undefined;
  const start = slash + 4;
  const end = bare.indexOf('/', start);
  const ns = end === -1 ? bare.slice(start) : bare.slice(start, end);
  return ns.length > 0 ? ns : undefined;
}
