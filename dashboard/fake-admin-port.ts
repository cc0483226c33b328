import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Test helper: an HTTP server answering fixed bodies by path, like a sidecar's admin port. */
export interface FakeAdminPort {
  readonly address: string;
  /** Path -> [status, body]; change it between polls. */
  readonly routes: Map<string, readonly [number, string]>;
  close(): Promise<void>;
}

export async function startFakeAdminPort(routes: Record<string, readonly [number, string]>): Promise<FakeAdminPort> {
  const table = new Map(Object.entries(routes));
  const server: Server = createServer((req, res) => {
    const [status, body] = table.get((req.url ?? '/').split('?')[0]!) ?? [404, '{"error":{"code":"ZTMESH_ADMIN_NOT_FOUND"}}'];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  server.on('connection', (s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    routes: table,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
