import type { Http1Connection } from './http1-connection.ts';
import { isRefusal } from '../errors/refusal.ts';
import { BodyBuffer, dropFramingHeaders } from '../validation/body-buffer.ts';
import { S_BUFFERING, S_CONNECTING } from './connection-states.ts';
import { forwardRequestHead } from './forward-request-head.ts';
import { B_CHUNKED, B_NONE, FRAME_ERROR } from './request-body-framer.ts';

// Request validation (sidecar/validation) on HTTP/1.1: a body is read whole, checked, then forwarded.

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** The route validates bodies: read this one whole (bounded) before connecting upstream. */
export function startBuffering(conn: Http1Connection): void {
  conn.state = S_BUFFERING;
  (conn.bodyBuffer ??= new BodyBuffer()).reset();
  // A client waiting for 100 Continue gets it from here (its Expect header is not forwarded).
  if (conn.head!.expectContinue && !conn.head!.http10) conn.socket.write(CONTINUE);
  conn.deadline = conn.ctx.timers.now + conn.ctx.limits.requestTimeoutMs;
  const rest = conn.input.take();
  if (rest !== null) bufferBody(conn, rest, 0);
  if (conn.state === S_BUFFERING) conn.socket.resume();
}

/** Client bytes of a body being read whole: when complete, check it and forward it with its head. */
export function bufferBody(conn: Http1Connection, buf: Buffer, start: number): void {
  const msgEnd = conn.body.frame(buf, start, conn.route!.maxBodyBytes ?? conn.ctx.limits.maxBodyBytes);
  if (msgEnd === FRAME_ERROR) {
    conn.failRequestBody(conn.body.error!);
    return;
  }
  if (msgEnd > start) conn.bodyBuffer!.add(start === 0 && msgEnd === buf.length ? buf : buf.subarray(start, msgEnd));
  if (!conn.body.done) return;
  if (msgEnd < buf.length) {
    conn.input.keep(buf, msgEnd);
    conn.checkBacklog();
  }
  // Read whole: whatever the check says, the connection's stream state is known again.
  conn.reqDone = true;
  const head = conn.head!;
  const route = conn.route!;
  const checked = route.bodyCheck!.run(conn.bodyBuffer!.take(), conn.body.mode === B_CHUNKED, head.header('content-type'));
  if (isRefusal(checked)) {
    conn.failBeforeResponse(checked);
    return;
  }
  // Forwarded unchanged, re-framed with Content-Length, in one write with the head (and replayable like a bodyless request).
  dropFramingHeaders(head);
  const extra = `${route.extraHeaders}x-request-id: ${conn.requestId}\r\n${route.scope.forwardHeaders}content-length: ${checked.length}\r\n`;
  conn.headBuf = Buffer.concat([forwardRequestHead(head, route.target, extra), checked]);
  conn.body.mode = B_NONE;
  conn.reqDone = false;
  conn.state = S_CONNECTING;
  conn.acquireUpstream(false);
}
