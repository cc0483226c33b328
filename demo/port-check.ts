import { createServer } from 'node:net';
import { MeshError } from '../core/errors/mesh-error.ts';

/**
 * Checks that each port is free on 127.0.0.1 by binding and releasing it, and reports every taken
 * one at once, naming what it was for. (A port can still be taken between this check and its use;
 * the child that then fails to bind reports it, and the demo stops.)
 */
export async function assertPortsFree(ports: readonly { readonly port: number; readonly role: string }[]): Promise<void> {
  const taken: { port: number; role: string; code: string }[] = [];
  for (const { port, role } of ports) {
    const code = await tryBind(port);
    if (code !== undefined) taken.push({ port, role, code });
  }
  if (taken.length > 0) {
    const list = taken.map((t) => `127.0.0.1:${t.port} (${t.role}${t.code === 'EADDRINUSE' ? '' : `: ${t.code}`})`).join(', ');
    throw new MeshError(
      'ZTMESH_DEMO_PORT_IN_USE',
      `port${taken.length > 1 ? 's' : ''} already in use: ${list}; stop what holds ${taken.length > 1 ? 'them' : 'it'} or run with --port-offset N`,
      { details: { ports: taken.map((t) => t.port) } },
    );
  }
}

function tryBind(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EADDRINUSE'));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(undefined));
    });
  });
}
