/**
 * Route templates inferred from normalized request paths: identifier-like segments are collapsed
 * into `{id}`, so `/users/17` and `/users/42` are one route, `/users/{id}`. Pure, never throws, no
 * allocation when nothing collapses (the path itself is returned).
 *
 * A segment is identifier-like when it is:
 *  - all digits (`17`), or mostly digits (`2024-01-02`, `INV-0042-77`: at least 4 characters, half of them digits);
 *  - a UUID (`8-4-4-4-12` hex digits, any case);
 *  - long hex: 12+ hex digits, or 8+ hex characters mixing letters and digits (`a1b2c3d4`, a short git sha);
 *  - a base64url-ish token: 16+ characters of `[A-Za-z0-9_=-]` with at least 2 digits, a letter, and
 *    at least 2 letter/digit alternations (`dGhpcyBpcyBhIHRva2Vu`, `AbC12dEf34gHi56j`); plain words
 *    joined by dashes (`authentication-methods`, `oauth2-authorization`) stay literal;
 *  - an e-mail address (contains `@` or `%40` followed by a dot);
 *  - longer than 64 characters (nothing that long is a readable route name).
 */

export const ID_PLACEHOLDER = '{id}';

const MAX_LITERAL_SEGMENT = 64;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isUuid(s: string, start: number, end: number): boolean {
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!isDigit(c) && !isHexLetter(c)) return false;
  }
  return true;
}

/** True when `s.slice(start, end)` looks like an identifier rather than a route name. */
export function isIdentifierSegment(s: string, start = 0, end = s.length): boolean {
  const len = end - start;
  if (len === 0) return false;
  if (len > MAX_LITERAL_SEGMENT) return true;
  let digits = 0;
  let letters = 0;
  let hexLetters = 0;
  let tokenChars = 0;
  let alternations = 0;
  let at = -1;
  let prevKind = 0; // 1 letter, 2 digit
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    let kind = 0;
    if (isDigit(c)) {
      digits++;
      tokenChars++;
      kind = 2;
    } else if (isLetter(c)) {
      letters++;
      tokenChars++;
      if (isHexLetter(c)) hexLetters++;
      kind = 1;
    } else if (c === 0x2d || c === 0x5f || c === 0x3d) {
      tokenChars++;
    } else if (c === 0x40 && at < 0) {
      at = i;
    } else if (c === 0x25 && at < 0 && i + 2 < end && s.charCodeAt(i + 1) === 0x34 && s.charCodeAt(i + 2) === 0x30) {
      at = i; // %40
    }
    if (kind !== 0) {
      if (prevKind !== 0 && kind !== prevKind) alternations++;
      prevKind = kind;
    }
  }
  if (digits === len) return true;
  if (at > start && s.indexOf('.', at) > at && s.indexOf('.', at) < end - 1) return true;
  if (len >= 4 && digits * 2 >= len && tokenChars === len) return true;
  if (len === 36 && isUuid(s, start, end)) return true;
  const hexOnly = digits + hexLetters === len;
  if (hexOnly && (len >= 12 || (len >= 8 && digits > 0 && hexLetters > 0))) return true;
  if (len >= 16 && tokenChars === len && digits >= 2 && letters > 0 && alternations >= 2) return true;
  return false;
}

/**
 * The route template of a normalized path (no query): identifier-like segments become `{id}`.
 * `routeTemplate('/users/17/orders/9f1c…')` is `/users/{id}/orders/{id}`.
 */
export function routeTemplate(path: string): string {
  let out: string | undefined;
  let copied = 0; // path[0, copied) is already in `out`
  let start = path.charCodeAt(0) === 0x2f ? 1 : 0;
  const len = path.length;
  while (start <= len) {
    let end = path.indexOf('/', start);
    if (end < 0) end = len;
    if (end > start && isIdentifierSegment(path, start, end)) {
      out = (out ?? '') + path.slice(copied, start) + ID_PLACEHOLDER;
      copied = end;
    }
    start = end + 1;
  }
  if (out === undefined) return path;
  return copied < len ? out + path.slice(copied) : out;
}
