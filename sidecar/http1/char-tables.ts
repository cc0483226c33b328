/**
 * Byte classes of RFC 9110/9112 as lookup tables, for the strict head parsers. A table entry is 1
 * when the byte is allowed.
 */

function table(allowed: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = allowed(c) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 5.6.2): token characters of methods and header names. */
export const TCHAR = table(
  (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_PUNCT.includes(String.fromCharCode(c)),
);

/** field-value bytes (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB. No NUL, CR, LF, other controls or DEL. */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80);

/** Request-target bytes: visible ASCII only (no space, controls, DEL or non-ASCII). */
export const TARGET_CHAR = table((c) => c >= 0x21 && c <= 0x7e);

/** Hex digit values, -1 for anything else. */
export const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** Host header (authority) bytes: unreserved, sub-delims, ':' and IPv6 brackets, '%' of pct-encoding. */
export const HOST_CHAR = table(
  (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "-._~!$&'()*+,;=:[]%".includes(String.fromCharCode(c)),
);
