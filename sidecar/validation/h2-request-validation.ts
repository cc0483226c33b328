import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { isRefusal, refusal, type Refusal } from '../errors/refusal.ts';
import type { RequestValidator, ValidatedRequest } from './request-validator.ts';

/** Where the outcome of validating one HTTP/2 request goes (exactly one call). */
export interface H2ValidationSink {
  /** Forward the request; `body` is the buffered, validated body to send instead of streaming (undefined: stream as usual). */
  pass(body: Buffer | undefined): void;
  refuse(r: Refusal): void;
  /** The stream closed before its body was complete: nothing to answer. */
  gone(): void;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * Request validation for one inbound HTTP/2 stream, after authorization: the route and query
 * checks at once; for a route with a body schema, the DATA frames are collected (at most
 * `maxBodyBytes`, 413 past it) and the whole body checked at END_STREAM. Streams to other routes
 * are passed on synchronously and never buffered.
 */
export function validateH2Request(
  stream: ServerHttp2Stream,
  validator: RequestValidator,
  req: ValidatedRequest,
  target: string,
  headers: IncomingHttpHeaders,
  maxBodyBytes: number,
  sink: H2ValidationSink,
): void {
  const contentType = header(headers, 'content-type');
  const declared = Number(header(headers, 'content-length') ?? Number.NaN);
  const hasBody = stream.endAfterHeaders ? false : declared > 0 ? true : undefined;
  const checked = validator.check(req, target, hasBody);
  if (checked === undefined) return sink.pass(undefined);
  if (isRefusal(checked)) return sink.refuse(checked);
  const max = Math.min(validator.maxBodyBytes, maxBodyBytes);
  const tooLarge = (): Refusal => refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${max} bytes, the most buffered for validation`);
  if (declared > max) return sink.refuse(tooLarge());
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const stop = (): void => {
    settled = true;
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('close', onClose);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size <= max) {
      chunks.push(chunk);
      return;
    }
    stop();
    chunks.length = 0;
    stream.resume(); // what else arrives is discarded
    sink.refuse(tooLarge());
  };
  const onEnd = (): void => {
    stop();
    const result = checked.run(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), false, contentType);
    if (isRefusal(result)) sink.refuse(result);
    else sink.pass(result);
  };
  const onClose = (): void => {
    if (settled) return;
    stop();
    sink.gone();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onClose);
}
