import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnomalyDetector } from './anomaly-detector.ts';

/**
 * The admin port's `/debug/anomalies` endpoint (GET/HEAD): `{"anomalies":[...recent alerts, newest
 * first], "measures":[...callers throttled or quarantined now]}`. Mounted by the admin server, which
 * brings the admin port's own protection (loopback bind or authentication).
 */
export function anomaliesHandler(detector: AnomalyDetector): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = `${JSON.stringify({ error: { code: 'ZTMESH_ADMIN_METHOD_NOT_ALLOWED', message: 'admin endpoints answer GET and HEAD only' } })}\n`;
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    const body = `${JSON.stringify({ anomalies: detector.recent(), measures: detector.responder.list() })}\n`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
