import { createServer, request, type Server } from 'node:http';

export interface FakeRoute {
  readonly port: number;
  /** Callers (by SPIFFE ID) this destination admits; anyone else gets the sidecar's 403 shape. */
  readonly allow: readonly string[];
}

/**
 * A hand-written stand-in for one workload's sidecar pair, for the apps' unit tests: a plaintext
 * "outbound listener" that routes by Host to an app port, adds the caller identity header the
 * real inbound sidecar adds, and refuses callers the route does not admit with a 403 JSON body.
 * No TLS and no policy engine: the real ones are exercised by test/demo-npm-start.test.ts.
 */
export function startFakeOutbound(callerIdentity: string, routes: Readonly<Record<string, FakeRoute>>): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const route = routes[req.headers.host ?? ''];
    const refuse = (status: number, code: string): void => {
      const body = JSON.stringify({ error: { code, message: 'refused by fake sidecar', requestId: 'fake' } });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (route === undefined) return refuse(503, 'ZTMESH_SIDECAR_NO_ROUTE');
    if (!route.allow.includes(callerIdentity)) {
      req.resume();
      return refuse(403, 'ZTMESH_SIDECAR_DENIED');
    }
    const headers = { ...req.headers, 'x-ztmesh-peer-identity': callerIdentity };
    const upstream = request({ host: '127.0.0.1', port: route.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => refuse(502, 'ZTMESH_SIDECAR_UPSTREAM_REFUSED'));
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
