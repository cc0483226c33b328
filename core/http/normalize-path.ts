/**
 * Request-path normalization, run once per request before authorization; the application receives
 * the very path the policy saw (`target`). Pure, allocation-light, never throws: it returns a result
 * object so the hot path has no exceptions.
 *
 * Steps, on the path part only (the query is validated and kept verbatim):
 *  1. refuse control characters, space, DEL, non-ASCII and '#' anywhere in the target;
 *  2. percent-decoding: %XX of an unreserved character (RFC 3986 2.3) is decoded, any other valid
 *     %XX is kept with uppercase hex; %2F / %5C (either case) and raw '\' are refused (strict, the
 *     default) or turned into '/' ('decode-and-merge-slashes'); an encoded control character or
 *     an invalid escape is refused;
 *  3. merge runs of '/' (all modes except 'base');
 *  4. remove dot segments (RFC 3986 5.2.4); a dot segment with parameters (`/..;x/`) is refused,
 *     as servers such as Tomcat resolve it as `..` and the policy would judge another path.
 * The output contains no dot segment, no decodable escape, and no empty segment (when merging), so
 * normalizing it again returns it unchanged.
 */

export type PathNormalizationMode = 'strict' | 'base' | 'decode-and-merge-slashes';

export type NormalizedPath =
  | { readonly ok: true; readonly path: string; readonly target: string }
  | { readonly ok: false; readonly code: PathRefusalCode; readonly reason: string };

export type PathRefusalCode =
  | 'ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM'
  | 'ZTMESH_HTTP_PATH_ENCODED_SLASH'
  | 'ZTMESH_HTTP_PATH_BACKSLASH'
  | 'ZTMESH_HTTP_PATH_CONTROL_CHAR'
  | 'ZTMESH_HTTP_PATH_BAD_PERCENT'
  | 'ZTMESH_HTTP_PATH_DOT_PARAMS'
  | 'ZTMESH_HTTP_PATH_BAD_CHAR';

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const DOT = 0x2e;
const HASH = 0x23;
const QUESTION = 0x3f;
const SEMICOLON = 0x3b;
const HEX = '0123456789ABCDEF';

function refuse(code: PathRefusalCode, reason: string): NormalizedPath {
  return { ok: false, code, reason };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** ALPHA / DIGIT / '-' / '.' / '_' / '~' */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === DOT || c === 0x5f || c === 0x7e
  );
}

/** Characters that can never appear raw in a request target we accept. */
function isForbiddenRaw(c: number): boolean {
  return c <= 0x20 || c >= 0x7f;
}

/**
 * Normalizes an origin-form request target (`/path?query`). `target` is the path plus the original
 * query (if any); `path` is what policies match.
 */
export function normalizePath(rawTarget: string, mode: PathNormalizationMode = 'strict'): NormalizedPath {
  const len = rawTarget.length;
  if (len === 0 || rawTarget.charCodeAt(0) !== SLASH) {
    return refuse('ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM', 'request path must start with "/"');
  }
  let queryStart = -1;
  // Pass 1: validate every character and find out whether the path needs rewriting at all.
  let needsWork = false;
  let prev = 0;
  for (let i = 0; i < len; i++) {
    const c = rawTarget.charCodeAt(i);
    if (isForbiddenRaw(c)) {
      return c >= 0x80
        ? refuse('ZTMESH_HTTP_PATH_BAD_CHAR', 'request target contains a non-ASCII character')
        : refuse('ZTMESH_HTTP_PATH_CONTROL_CHAR', 'request target contains a control character or space');
    }
    if (c === HASH) return refuse('ZTMESH_HTTP_PATH_BAD_CHAR', 'request target contains a fragment ("#")');
    if (queryStart !== -1) continue;
    if (c === QUESTION) {
      queryStart = i;
      continue;
    }
    if (c === BACKSLASH) {
      if (mode !== 'decode-and-merge-slashes') return refuse('ZTMESH_HTTP_PATH_BACKSLASH', 'request path contains a backslash');
      needsWork = true;
    } else if (c === PERCENT || c === SEMICOLON || (prev === SLASH && (c === DOT || c === SLASH))) {
      needsWork = true;
    }
    prev = c;
  }
  const pathEnd = queryStart === -1 ? len : queryStart;
  if (queryStart !== -1) {
    // The query is forwarded verbatim, but a broken escape in it is still refused.
    for (let i = queryStart + 1; i < len; i++) {
      if (rawTarget.charCodeAt(i) !== PERCENT) continue;
      if (i + 2 >= len || hexValue(rawTarget.charCodeAt(i + 1)) < 0 || hexValue(rawTarget.charCodeAt(i + 2)) < 0) {
        return refuse('ZTMESH_HTTP_PATH_BAD_PERCENT', 'request query contains an invalid percent-encoding');
      }
    }
  }
  if (!needsWork) {
    const path = queryStart === -1 ? rawTarget : rawTarget.slice(0, queryStart);
    return { ok: true, path, target: rawTarget };
  }
  const decoded = decodePath(rawTarget, pathEnd, mode);
  if (typeof decoded !== 'string') return decoded;
  if (decoded.includes(';') && /\/\.\.?;/.test(decoded)) {
    return refuse('ZTMESH_HTTP_PATH_DOT_PARAMS', 'request path has a dot segment with parameters');
  }
  const path = removeDotSegments(decoded, mode !== 'base');
  const target = queryStart === -1 ? path : path + rawTarget.slice(queryStart);
  return { ok: true, path, target };
}

/** Step 2: percent-decoding of the path part; returns the decoded path or a refusal. */
function decodePath(raw: string, end: number, mode: PathNormalizationMode): string | NormalizedPath {
  let out = '';
  let runStart = 0;
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === BACKSLASH) {
      // Only reachable in 'decode-and-merge-slashes': pass 1 refused it otherwise.
      out += raw.slice(runStart, i) + '/';
      runStart = i + 1;
      continue;
    }
    if (c !== PERCENT) continue;
    if (i + 2 >= end) return refuse('ZTMESH_HTTP_PATH_BAD_PERCENT', 'request path contains an invalid percent-encoding');
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return refuse('ZTMESH_HTTP_PATH_BAD_PERCENT', 'request path contains an invalid percent-encoding');
    const byte = hi * 16 + lo;
    out += raw.slice(runStart, i);
    runStart = i + 3;
    if (byte === SLASH || byte === BACKSLASH) {
      if (mode !== 'decode-and-merge-slashes') {
        return refuse('ZTMESH_HTTP_PATH_ENCODED_SLASH', 'request path contains an encoded slash or backslash');
      }
      out += '/';
    } else if (byte < 0x20 || byte === 0x7f) {
      return refuse('ZTMESH_HTTP_PATH_CONTROL_CHAR', 'request path contains an encoded control character');
    } else if (isUnreserved(byte)) {
      out += String.fromCharCode(byte);
    } else {
      out += '%' + HEX[hi] + HEX[lo];
    }
    i += 2;
  }
  return out + raw.slice(runStart, end);
}

/**
 * Steps 3 and 4: split into segments, drop empty segments when merging (a trailing slash is kept),
 * resolve '.' and '..' as RFC 3986 5.2.4 does (never above the root).
 */
function removeDotSegments(path: string, mergeSlashes: boolean): string {
  const input = path.split('/');
  // input[0] is '' (the path starts with '/').
  const out: string[] = [];
  const last = input.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = input[i]!;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (i === last) out.push('');
      continue;
    }
    if (seg === '' && mergeSlashes && i !== last) continue;
    out.push(seg);
  }
  return '/' + out.join('/');
}
