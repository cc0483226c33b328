import { createServer } from 'node:net';

/**
 * A free loopback port, found by binding port 0 and closing again. nginx and the sidecar configs
 * need ports written into files, so the harness cannot hand them port 0; the gap between closing
 * and the child binding is a (small, loudly failing) race.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
