import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshClient } from '../mesh-client.ts';
import { drainBody, peerIdentity, sendJson, type AppHandler } from './app-server.ts';

/**
 * orders: `GET /orders*` charges the order through the mesh (`POST /charge` on payments, via its own
 * sidecar) and answers with its identity, the caller its sidecar verified, and that call.
 */
export function ordersHandler(identity: string, client: MeshClient): AppHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    await drainBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (!path.startsWith('/orders')) return sendJson(res, 404, { error: { code: 'DEMO_NOT_FOUND' } });
    if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'DEMO_METHOD_NOT_ALLOWED' } });
    const charge = await client.call('payments', 'POST', '/charge', { order: 'o-1001', amountCents: 4200 });
    const paid = charge.status === 200;
    sendJson(res, paid ? 200 : 502, {
      service: 'orders',
      identity,
      caller: peerIdentity(req),
      orders: [{ id: 'o-1001', item: 'coffee beans', amountCents: 4200, paid }],
      calls: [charge],
      ...(paid ? {} : { error: { code: 'DEMO_PAYMENT_FAILED' } }),
    });
  };
}
