import type { ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Refusal } from '../errors/refusal.ts';

/** gRPC status codes (grpc/doc/statuscodes.md) for the sidecar's own refusals. */
export const GRPC_STATUS = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Maps an HTTP status of a refusal to the gRPC status a gRPC caller gets instead. */
export function grpcStatusFor(httpStatus: number): number {
  if (httpStatus === 403) return GRPC_STATUS.PERMISSION_DENIED;
  if (httpStatus === 401) return GRPC_STATUS.UNAUTHENTICATED;
  if (httpStatus === 504 || httpStatus === 408) return GRPC_STATUS.DEADLINE_EXCEEDED;
  if (httpStatus === 502 || httpStatus === 503) return GRPC_STATUS.UNAVAILABLE;
  if (httpStatus === 413 || httpStatus === 431 || httpStatus === 429) return GRPC_STATUS.RESOURCE_EXHAUSTED;
  if (httpStatus >= 400 && httpStatus < 500) return GRPC_STATUS.INVALID_ARGUMENT;
  return GRPC_STATUS.INTERNAL;
}

export function isGrpc(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): printable ASCII except '%' kept. */
function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/g, (c) => encodeURIComponent(c));
}

/**
 * Answers an HTTP/2 stream with a refusal: gRPC callers get a trailers-only response with
 * grpc-status/grpc-message (and the code in `x-ztmesh-error`), others the JSON error body.
 */
export function respondH2Refusal(stream: ServerHttp2Stream, grpc: boolean, r: Refusal, requestId: string): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(0x2); // INTERNAL_ERROR: the response already started
    return;
  }
  if (grpc) {
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(grpcStatusFor(r.status)),
        'grpc-message': grpcMessage(r.message),
        'x-ztmesh-error': r.code,
        'x-request-id': requestId,
        ...r.headers,
      },
      { endStream: true },
    );
    return;
  }
  const body = JSON.stringify({ error: { code: r.code, message: r.message, requestId } });
  stream.respond({ ':status': r.status, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId, ...r.headers });
  stream.end(body);
}
