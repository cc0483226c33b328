import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { InformerHealth } from '../kube/resilient-informer.ts';

export interface OperatorAdminOptions {
  /** HOST:PORT; port 0 picks one. */
  readonly listen: string;
  readonly logger: Logger;
  readonly informers: () => readonly InformerHealth[];
  /** What the operator sees, for `ztmesh status` (no secrets in it). */
  readonly view: () => unknown;
}

export interface RunningOperatorAdmin {
  readonly port: number;
  close(): Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[2]) > 65535) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `admin address ${JSON.stringify(listen)} is not HOST:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * The operator's admin endpoint: /healthz (the process serves), /ready (every watch synced and
 * healthy, with the failing ones named), /status (workloads, identities, policies, ACKs as JSON).
 */
export async function startOperatorAdmin(options: OperatorAdminOptions): Promise<RunningOperatorAdmin> {
  const { host, port } = splitHostPort(options.listen);
  const server: Server = createServer((req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => undefined);
    const send = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { ok: true });
    if (path === '/ready') {
      const informers = options.informers();
      const failing = informers.filter((i) => !i.synced || !i.healthy);
      return send(failing.length === 0 ? 200 : 503, { ready: failing.length === 0, informers });
    }
    if (path === '/status') return send(200, options.view());
    return send(404, { error: 'not found' });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new MeshError('ZTMESH_CONTROL_LISTEN_FAILED', `admin cannot listen on ${options.listen}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  server.on('error', (err) => options.logger.error({ err: { message: err.message } }, 'admin server error'));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
