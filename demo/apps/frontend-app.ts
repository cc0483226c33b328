import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshCall } from '../mesh-call.ts';
import type { MeshClient } from '../mesh-client.ts';
import { renderFrontendPage } from './frontend-page.ts';
import { drainBody, sendJson, type AppHandler } from './app-server.ts';

/** What the frontend answers on `/`: who it is and the calls it just made through the mesh. */
export interface FrontendView {
  readonly service: 'frontend';
  readonly identity: string;
  readonly calls: readonly MeshCall[];
}

/**
 * frontend, the edge the browser opens directly: each `GET /` makes two real calls through its
 * sidecar (GET /orders on orders, which is allowed and itself charges payments; then POST /charge
 * on payments, which policy denies) and shows them as HTML, or as JSON for `Accept: application/json`.
 */
export function frontendHandler(identity: string, client: MeshClient): AppHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    await drainBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path !== '/') return sendJson(res, 404, { error: { code: 'DEMO_NOT_FOUND' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'DEMO_METHOD_NOT_ALLOWED' } });
    const calls = [
      await client.call('orders', 'GET', '/orders'),
      await client.call('payments', 'POST', '/charge', { order: 'o-1001', amountCents: 4200 }),
    ];
    const view: FrontendView = { service: 'frontend', identity, calls };
    if (wantsJson(req.headers.accept)) return sendJson(res, 200, view);
    const html = renderFrontendPage(view);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  };
}

/** JSON when the client asks for it and does not prefer HTML (browsers list text/html first). */
export function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const json = accept.indexOf('application/json');
  if (json === -1) return false;
  const html = accept.indexOf('text/html');
  return html === -1 || json < html;
}
