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

// Character classes, one table lookup per character.
const DIGIT = 1;
const HEX_LETTER = 2;
const LETTER = 4;
const TOKEN = 8; // [A-Za-z0-9_=-]
const CLASSES = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASSES[c] = DIGIT | TOKEN;
for (let c = 0x41; c <= 0x5a; c++) CLASSES[c] = LETTER | TOKEN | (c <= 0x46 ? HEX_LETTER : 0);
for (let c = 0x61; c <= 0x7a; c++) CLASSES[c] = LETTER | TOKEN | (c <= 0x66 ? HEX_LETTER : 0);
CLASSES[0x2d] = TOKEN;
CLASSES[0x5f] = TOKEN;
CLASSES[0x3d] = TOKEN;

function isUuid(s: string, start: number): boolean {
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (c >= 128 || (CLASSES[c]! & (DIGIT | HEX_LETTER)) === 0) return false;
  }
  return true;
}

function hasEmailAt(s: string, start: number, end: number): boolean {
  let at = s.indexOf('@', start);
  if (at < 0 || at >= end) {
    at = s.indexOf('%40', start);
    if (at < 0 || at >= end) return false;
  }
  if (at === start) return false;
  const dot = s.indexOf('.', at);
  return dot > at && dot < end - 1;
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
  let prev = 0; // DIGIT or LETTER of the last alphanumeric character
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const f = c < 128 ? CLASSES[c]! : 0;
    if (f === 0) continue;
    tokenChars++;
    const kind = f & (DIGIT | LETTER);
    if (kind === 0) continue;
    if (kind === DIGIT) digits++;
    else {
      letters++;
      if ((f & HEX_LETTER) !== 0) hexLetters++;
    }
    if (prev !== 0 && kind !== prev) alternations++;
    prev = kind;
  }
  if (digits === len) return true;
  if (tokenChars === len) {
    if (len >= 4 && digits * 2 >= len) return true;
    if (len === 36 && isUuid(s, start)) return true;
    const hexOnly = digits + hexLetters === len;
    if (hexOnly && (len >= 12 || (len >= 8 && digits > 0 && hexLetters > 0))) return true;
    if (len >= 16 && digits >= 2 && letters > 0 && alternations >= 2) return true;
    return false;
  }
  return hasEmailAt(s, start, end);
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
