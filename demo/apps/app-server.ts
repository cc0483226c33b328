import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MeshError } from '../../core/errors/mesh-error.ts';

export type AppHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A running demo app (a plain HTTP/1.1 server on loopback). */
export interface DemoApp {
  readonly name: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts one demo app. A handler that throws answers 500 (never crashes the demo); `onError`
 * hears about it. Keep-alive sockets are closed on `close()` so shutdown does not wait for them.
 */
export function startApp(name: string, host: string, port: number, handler: AppHandler, onError: (err: unknown) => void): Promise<DemoApp> {
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'DEMO_APP_ERROR', message: 'internal error' } });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'EADDRINUSE' ? 'ZTMESH_DEMO_PORT_IN_USE' : 'ZTMESH_DEMO_STEP_FAILED';
      reject(new MeshError(code, `${name} app cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err, details: { port } }));
    });
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = address !== null && typeof address === 'object' ? address.port : port;
      resolve({
        name,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The identity the app's inbound sidecar verified for the caller, or null (a direct, unmeshed call). */
export function peerIdentity(req: IncomingMessage): string | null {
  const value = req.headers['x-ztmesh-peer-identity'];
  return typeof value === 'string' && value.length > 0 && value.length <= 2048 ? value : null;
}

/** Reads and discards a request body (bounded), so keep-alive connections stay usable. */
export function drainBody(req: IncomingMessage, limit = 64 * 1024): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy();
    });
    req.on('end', () => resolve());
    req.on('close', () => resolve());
    req.on('error', () => resolve());
  });
}
