import type { RequestHead } from './request-head.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedScanner } from './chunked-scanner.ts';

// Request body framing.
export const B_NONE = 0;
export const B_LENGTH = 1;
export const B_CHUNKED = 2;

/** `frame` result when the body is malformed or too large (`error` says why). */
export const FRAME_ERROR = -1;

/**
 * Where a request body ends, without copying it: a Content-Length countdown or a strict chunked
 * scan, with the body size limit. One per connection, `start`ed for each request.
 */
export class RequestBodyFramer {
  mode = B_NONE;
  remaining = 0;
  done = true;
  bytes = 0;
  error: Refusal | undefined = undefined;
  readonly scanner = new ChunkedScanner();

  /** Sets up framing for `head` (an upgrade has no body: what follows belongs to the tunnel). */
  start(head: RequestHead): void {
    this.bytes = 0;
    this.error = undefined;
    if (head.isUpgrade() || !head.hasBody()) {
      this.mode = B_NONE;
      this.done = true;
    } else if (head.chunked) {
      this.mode = B_CHUNKED;
      this.scanner.reset();
      this.done = false;
    } else {
      this.mode = B_LENGTH;
      this.remaining = head.contentLength;
      this.done = false;
    }
  }

  /** The offset in buf[start, buf.length) where this body's bytes stop (sets `done` at its end), or FRAME_ERROR. */
  frame(buf: Buffer, start: number, maxBodyBytes: number): number {
    const end = buf.length;
    if (this.mode === B_LENGTH) {
      const n = Math.min(this.remaining, end - start);
      this.remaining -= n;
      this.bytes += n;
      if (this.remaining === 0) this.done = true;
      return start + n;
    }
    if (this.mode === B_NONE) return start;
    const r = this.scanner.scan(buf, start, end);
    if (r === CHUNKED_ERROR) {
      this.error = refusal(400, 'ZTMESH_SIDECAR_BAD_CHUNK', `bad chunked request body: ${this.scanner.error}`);
      return FRAME_ERROR;
    }
    if (this.scanner.bodyBytes > maxBodyBytes) {
      this.error = refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`);
      return FRAME_ERROR;
    }
    const stop = r === CHUNKED_NEED_MORE ? end : r;
    this.bytes += stop - start;
    if (r !== CHUNKED_NEED_MORE) this.done = true;
    return stop;
  }
}
