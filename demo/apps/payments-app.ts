import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainBody, peerIdentity, sendJson, type AppHandler } from './app-server.ts';

/** payments: `POST /charge` answers who it is and who called it (as its sidecar verified). */
export function paymentsHandler(identity: string): AppHandler {
  let next = 1;
  return async (req: IncomingMessage, res: ServerResponse) => {
    await drainBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path !== '/charge') return sendJson(res, 404, { error: { code: 'DEMO_NOT_FOUND' } });
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'DEMO_METHOD_NOT_ALLOWED' } });
    sendJson(res, 200, { service: 'payments', identity, caller: peerIdentity(req), charge: { id: `ch_${next++}`, status: 'captured' } });
  };
}
