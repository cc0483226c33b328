import type { Server } from 'node:net';
import type { HostPort } from '../config/host-port.ts';

/** Starts listening; resolves with the bound address (port 0 → the chosen port), rejects on error. */
export function listenOn(server: Server, at: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: at.host, port: at.port }, () => {
      server.removeListener('error', onError);
      server.on('error', () => undefined);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? { host: at.host, port: addr.port } : at);
    });
  });
}

/** Stops accepting and resolves once the server has closed (open connections must be closed by the caller). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
