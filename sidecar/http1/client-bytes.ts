import type { Http1Limits } from './limits.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { HEAD_BARE_LF, HEAD_INCOMPLETE, findHeadEnd, skipLeadingCrlf } from './head-end.ts';
import { RequestHead, parseRequestHead } from './request-head.ts';

/**
 * Bytes a client sent that no exchange consumed yet: a request head being received, or pipelined
 * requests waiting for their turn. Scanning resumes where it stopped, so a head arriving in many
 * small pieces is scanned once.
 */
export class ClientBytes {
  buf: Buffer | null = null;
  start = 0;
  scanFrom = 0;
  /** Part of a head has arrived (the headers timeout runs). */
  partial = false;

  isEmpty(): boolean {
    return this.buf === null || this.start >= this.buf.length;
  }

  size(): number {
    return this.buf === null ? 0 : this.buf.length - this.start;
  }

  append(chunk: Buffer): void {
    const p = this.buf;
    if (p === null || this.start >= p.length) {
      this.buf = chunk;
      this.start = 0;
      this.scanFrom = 0;
    } else {
      this.buf = Buffer.concat([this.start === 0 ? p : p.subarray(this.start), chunk]);
      this.scanFrom = Math.max(0, this.scanFrom - this.start);
      this.start = 0;
    }
  }

  /** Keeps buf[from..] (bytes after a request body). */
  keep(buf: Buffer, from: number): void {
    this.buf = buf;
    this.start = from;
    this.scanFrom = from;
  }

  /** Removes and returns what is held (null when empty). */
  take(): Buffer | null {
    const b = this.buf;
    const s = this.start;
    this.clear();
    if (b === null || s >= b.length) return null;
    return s === 0 ? b : b.subarray(s);
  }

  clear(): void {
    this.buf = null;
    this.start = 0;
    this.scanFrom = 0;
    this.partial = false;
  }

  /**
   * The next complete request head, consumed; undefined while it is incomplete (`partial` set);
   * or the refusal for a malformed, oversized or truncated (`ended`) one.
   */
  nextHead(limits: Http1Limits, ended: boolean): RequestHead | Refusal | undefined {
    const buf = this.buf!;
    const start = skipLeadingCrlf(buf, this.start, Math.min(buf.length, this.start + 64));
    const end = findHeadEnd(buf, start, this.scanFrom, Math.min(buf.length, start + limits.maxHeaderBytes));
    if (end === HEAD_BARE_LF) return refusal(400, 'ZTMESH_SIDECAR_BARE_LF', 'request head lines must end in CRLF');
    if (end === HEAD_INCOMPLETE) {
      if (buf.length - start >= limits.maxHeaderBytes) {
        return refusal(431, 'ZTMESH_SIDECAR_HEADERS_TOO_LARGE', `request head exceeds ${limits.maxHeaderBytes} bytes`);
      }
      if (ended) return refusal(400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE', 'connection closed inside a request head');
      this.scanFrom = Math.max(start, buf.length - 3);
      this.partial = true;
      return undefined;
    }
    this.partial = false;
    this.start = end;
    this.scanFrom = end;
    return parseRequestHead(buf, start, end, limits.maxHeaderCount);
  }
}
