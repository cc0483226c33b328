import { STATUS_CODES } from 'node:http';
import type { Refusal } from './refusal.ts';

/**
 * The one JSON error shape of everything the sidecar answers itself:
 * `{"error":{"code":"ZTMESH_...","message":"...","requestId":"..."}}`, as a complete HTTP/1.1
 * response. `close` adds `Connection: close` (the connection's stream state is unknown, or it is draining).
 */
export function errorResponse(r: Refusal, requestId: string, close: boolean): Buffer {
  const body = JSON.stringify({ error: { code: r.code, message: r.message, requestId } });
  let extra = '';
  if (r.headers !== undefined) for (const name in r.headers) extra += `${name}: ${r.headers[name]}\r\n`;
  const head =
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\n` +
    'content-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n` +
    extra +
    (close ? 'connection: close\r\n' : '') +
    '\r\n';
  return Buffer.from(head + body, 'utf8');
}
