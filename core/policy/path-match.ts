import { compileStringList, stringPatternError, type StringListMatcher } from './string-match.ts';

/**
 * Path patterns of `operation.paths` / `notPaths`: Istio string matching (exact, `/p*`, `*.js`, `*`)
 * plus URI templates where whole segments are `{*}` (exactly one segment) or `{**}` (one or more
 * segments; at most one, and no `{*}` after it, as Envoy's URI templates require). Matched against the normalized path without its query.
 */

const TEMPLATE_SEGMENT = /\{\*\*?\}/;

export function isPathTemplate(pattern: string): boolean {
  return TEMPLATE_SEGMENT.test(pattern);
}

/** Why `pattern` is not a valid path pattern, or undefined. */
export function pathPatternError(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty';
  if (/[\s#?\\]/.test(pattern)) return `${JSON.stringify(pattern)}: paths must not contain whitespace, '#', '?' or '\\' (queries are not matched)`;
  if (!isPathTemplate(pattern)) {
    const err = stringPatternError(pattern);
    if (err !== undefined) return err;
    if (pattern !== '*' && !pattern.startsWith('/') && !pattern.startsWith('*')) return `${JSON.stringify(pattern)}: a path must start with '/'`;
    return undefined;
  }
  if (!pattern.startsWith('/')) return `${JSON.stringify(pattern)}: a path template must start with '/'`;
  const segments = pattern.split('/').slice(1);
  let doubles = 0;
  for (const seg of segments) {
    if (seg === '{**}') doubles++;
    else if (seg === '{*}') {
      if (doubles > 0) return `${JSON.stringify(pattern)}: '{**}' must be the last template operator`;
    }
    else if (seg.includes('{') || seg.includes('}') || seg.includes('*')) {
      return `${JSON.stringify(pattern)}: '{*}' and '{**}' must be whole path segments, without other wildcards`;
    }
  }
  if (doubles > 1) return `${JSON.stringify(pattern)}: '{**}' may appear at most once`;
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templateRegExp(pattern: string): RegExp {
  const parts = pattern.split('/').slice(1).map((seg) => {
    if (seg === '{*}') return '/[^/]+';
    if (seg === '{**}') return '(?:/[^/]+)+';
    return '/' + escapeRegExp(seg);
  });
  return new RegExp(`^${parts.join('')}$`);
}

/** Compiles a validated list of path patterns into one matcher. */
export function compilePathList(patterns: readonly string[]): StringListMatcher {
  const plain = patterns.filter((p) => !isPathTemplate(p));
  const templates = patterns.filter(isPathTemplate).map(templateRegExp);
  const plainMatch = plain.length > 0 ? compileStringList(plain) : undefined;
  if (templates.length === 0) return plainMatch!;
  return (path) => {
    if (plainMatch !== undefined && plainMatch(path)) return true;
    for (const re of templates) if (re.test(path)) return true;
    return false;
  };
}
