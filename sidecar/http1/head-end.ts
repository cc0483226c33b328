const CR = 0x0d;
const LF = 0x0a;

/** `findHeadEnd` results other than an offset. */
export const HEAD_INCOMPLETE = -1;
export const HEAD_BARE_LF = -2;

/**
 * Looks for the end of an HTTP/1 head (CRLF CRLF) in buf[start, limit), resuming at `from` (bytes
 * before it were already scanned). Every LF must follow a CR: a bare LF is reported at once, so
 * LF-only heads are refused instead of waiting for the headers timeout. Returns the offset just
 * past the final CRLF, HEAD_INCOMPLETE, or HEAD_BARE_LF.
 */
export function findHeadEnd(buf: Buffer, start: number, from: number, limit: number): number {
  let i = from < start ? start : from;
  for (;;) {
    const lf = buf.indexOf(LF, i);
    if (lf === -1 || lf >= limit) return HEAD_INCOMPLETE;
    if (lf === start || buf[lf - 1] !== CR) return HEAD_BARE_LF;
    if (lf - 3 >= start && buf[lf - 2] === LF && buf[lf - 3] === CR) return lf + 1;
    i = lf + 1;
  }
}

/** Skips empty lines (CRLF) a client may send before a request line (RFC 9112 2.2); returns the new start. */
export function skipLeadingCrlf(buf: Buffer, start: number, limit: number): number {
  let i = start;
  while (i + 1 < limit && buf[i] === CR && buf[i + 1] === LF) i += 2;
  return i;
}
