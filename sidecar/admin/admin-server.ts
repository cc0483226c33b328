import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { PROMETHEUS_CONTENT_TYPE, type Registry } from '../../core/telemetry/metrics.ts';
import type { HostPort } from '../config/host-port.ts';
import type { AppProbeConfig } from '../config/load-sidecar-config.ts';
import type { Credentials } from '../tls/credentials.ts';
import { probeApp } from './app-probe.ts';

export interface Readiness {
  readonly ready: boolean;
  /** What is missing for readiness, e.g. ["identity", "policy"], or ["draining"]. */
  readonly missing: readonly string[];
}

/** An extra admin endpoint (GET/HEAD only: the server refuses other methods before calling it). */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface AdminServerOptions {
  readonly listen: HostPort;
  readonly readiness: () => Readiness;
  readonly registry: Registry;
  /** The SVID held (even if expired), for /debug/identity; never its key. */
  readonly identity: () => Credentials | undefined;
  readonly appProbes: ReadonlyMap<string, AppProbeConfig>;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly probeTimeoutMs?: number;
  /** More endpoints by exact path (`/debug/decisions`, `/inventory`...); the built-in ones take precedence. */
  readonly routes?: ReadonlyMap<string, AdminRoute>;
}

export interface AdminServer {
  readonly address: HostPort;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024;
const PROBE_BODY_BYTES = 4096;

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, `${JSON.stringify({ error: { code, message } })}\n`);
}

/** An admin endpoint answering `snapshot()` as JSON, read per request. */
export function jsonRoute(snapshot: () => unknown): AdminRoute {
  return (_req, res) => send(res, 200, `${JSON.stringify(snapshot())}\n`);
}

/**
 * The sidecar's admin port (node:http: not the hot path): /healthz (the process is alive), /ready
 * (200 only with a valid identity and policy, else 503 listing what is missing), /metrics
 * (Prometheus text), /app-health/<name> (the kubelet's rewritten probe, proxied to the app's probe
 * endpoint; the app's status is returned), /debug/identity (SPIFFE ID, serial, validity; never the key),
 * plus the `routes` its owner mounts (/debug/decisions: recent authorization decisions).
 * GET and HEAD only; bodies over 1 KiB refused; short header and request timeouts.
 */
export async function startAdminServer(o: AdminServerOptions): Promise<AdminServer> {
  const log = o.logger.child({ component: 'admin' });
  const now = o.now ?? Date.now;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, 405, 'ZTMESH_ADMIN_METHOD_NOT_ALLOWED', 'admin endpoints answer GET and HEAD only');
    }
    if (path === '/healthz') return send(res, 200, '{"status":"ok"}\n');
    if (path === '/ready') {
      const r = o.readiness();
      return send(res, r.ready ? 200 : 503, `${JSON.stringify({ ready: r.ready, missing: r.missing })}\n`);
    }
    if (path === '/metrics') return send(res, 200, o.registry.render(), PROMETHEUS_CONTENT_TYPE);
    if (path === '/debug/identity') {
      const c = o.identity();
      if (c === undefined) return sendError(res, 404, 'ZTMESH_ADMIN_NO_IDENTITY', 'no SVID held yet');
      const body = {
        spiffeId: c.identity,
        trustDomain: c.trustDomain,
        serial: c.leaf.serialNumber,
        notBefore: new Date(c.notBefore).toISOString(),
        notAfter: new Date(c.notAfter).toISOString(),
        expired: c.notAfter <= now(),
        issuer: c.leaf.issuer,
      };
      return send(res, 200, `${JSON.stringify(body)}\n`);
    }
    if (path.startsWith('/app-health/')) {
      const name = path.slice('/app-health/'.length);
      const probe = o.appProbes.get(name);
      if (probe === undefined) return sendError(res, 404, 'ZTMESH_ADMIN_NOT_FOUND', `no app probe named ${JSON.stringify(name.slice(0, 64))}`);
      const result = await probeApp(probe, { timeoutMs: o.probeTimeoutMs ?? 10_000, maxBodyBytes: PROBE_BODY_BYTES });
      if (result.status === undefined) {
        log.warn({ probe: name, reason: result.body }, 'app probe failed');
        return sendError(res, 503, 'ZTMESH_ADMIN_PROBE_FAILED', `app probe ${name} failed: ${result.body}`);
      }
      return send(res, result.status, result.body, 'text/plain; charset=utf-8');
    }
    const extra = o.routes?.get(path);
    if (extra !== undefined) return extra(req, res);
    return sendError(res, 404, 'ZTMESH_ADMIN_NOT_FOUND', 'no such admin endpoint');
  }

  const server: Server = createServer({ maxHeaderSize: 8192, requestTimeout: 15_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => {});
    const length = Number(req.headers['content-length'] ?? 0);
    if (req.headers['transfer-encoding'] !== undefined || !(length <= MAX_BODY_BYTES)) {
      res.setHeader('connection', 'close');
      sendError(res, 413, 'ZTMESH_ADMIN_BODY_TOO_LARGE', `admin requests carry no body (limit ${MAX_BODY_BYTES} bytes)`);
      return;
    }
    req.resume();
    route(req, res).catch((err: unknown) => {
      log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'admin request failed');
      if (!res.headersSent) sendError(res, 500, 'ZTMESH_SIDECAR_INTERNAL', 'internal error');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('connection', (socket) => socket.on('error', () => {}));

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MeshError('ZTMESH_ADMIN_LISTEN_FAILED', `admin server cannot listen on ${o.listen.host}:${o.listen.port}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  server.on('error', (err) => log.error({ err: { message: err.message } }, 'admin server error'));
  const addr = server.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
