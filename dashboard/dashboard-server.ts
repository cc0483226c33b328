import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError } from '../core/errors/mesh-error.ts';
import type { Logger } from '../core/telemetry/logger.ts';
import type { HostPort } from '../sidecar/config/host-port.ts';
import { AccessControl, TOKEN_COOKIE } from './access-control.ts';
import type { MeshViewSource } from './mesh-view-source.ts';

export interface DashboardServerOptions {
  readonly listen: HostPort;
  /** The bearer token (required by the caller for a non-loopback address), or undefined. */
  readonly token: string | undefined;
  /** The view served and pushed: the local poller of admin ports, or the operator's aggregate. */
  readonly source: MeshViewSource;
  /** More JSON endpoints by exact path (the operator's `/inventory`), behind the same access control. */
  readonly routes?: ReadonlyMap<string, () => unknown>;
  readonly logger: Logger;
  /** Comment lines sent on idle event streams, so proxies keep them open (default 15 s). */
  readonly heartbeatMs?: number;
}

export interface DashboardServer {
  readonly address: HostPort;
  close(): Promise<void>;
}

/**
 * Every answer is no-store and unframeable; the page may load only its own script, style and
 * data (no inline script or style at all), so text an attacker placed in a path or identity cannot
 * run even if it ever reached the DOM as markup.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const ASSETS: readonly { readonly path: string; readonly file: string; readonly type: string }[] = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
];

const MAX_STREAMS = 64;

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify({ error: { code, message } })}\n`, 'application/json', extra);
}

/**
 * The dashboard's web server: the page (`/`, `/app.js`, `/style.css`, read once at start), the
 * mesh view as JSON (`/api/mesh`), and Server-Sent Events (`/api/events`: an `event: mesh` with the
 * view after every poll). GET and HEAD only. With a token, `/?token=T` sets an HttpOnly,
 * SameSite=Strict cookie and redirects to `/`, so a browser can log in from a link.
 */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const log = o.logger.child({ component: 'dashboard' });
  const access = new AccessControl(o.token);
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const a of ASSETS) assets.set(a.path, { body: await readFile(new URL(`./static/${a.file}`, import.meta.url)), type: a.type });
  const streams = new Set<ServerResponse>();

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, 'ZTMESH_DASHBOARD_METHOD_NOT_ALLOWED', 'the dashboard answers GET and HEAD only', { allow: 'GET, HEAD' });
    }
    const login = url.searchParams.get('token');
    if (access.tokenRequired && url.pathname === '/' && login !== null) {
      if (!access.matches(login)) return sendError(res, 401, 'ZTMESH_DASHBOARD_UNAUTHORIZED', 'wrong token');
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(login)}; HttpOnly; SameSite=Strict; Path=/`, 'content-length': 0 });
      res.end();
      return;
    }
    if (!access.allows(req)) {
      return access.tokenRequired
        ? sendError(res, 401, 'ZTMESH_DASHBOARD_UNAUTHORIZED', 'this dashboard needs its token: send "Authorization: Bearer TOKEN", or open /?token=TOKEN once', { 'www-authenticate': 'Bearer realm="ztmesh-dashboard"' })
        : sendError(res, 403, 'ZTMESH_DASHBOARD_UNAUTHORIZED', 'open the dashboard by a loopback address (127.0.0.1, localhost, [::1])');
    }
    const asset = assets.get(url.pathname);
    if (asset !== undefined) return send(res, 200, asset.body, asset.type);
    if (url.pathname === '/api/mesh') return send(res, 200, `${JSON.stringify(o.source.current ?? null)}\n`, 'application/json');
    const route = o.routes?.get(url.pathname);
    if (route !== undefined) return send(res, 200, `${JSON.stringify(route())}\n`, 'application/json');
    if (url.pathname === '/api/events') return stream(req, res);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      return void res.end();
    }
    return sendError(res, 404, 'ZTMESH_DASHBOARD_NOT_FOUND', 'no such page');
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= MAX_STREAMS) return sendError(res, 503, 'ZTMESH_DASHBOARD_BUSY', `too many open event streams (${MAX_STREAMS})`, { 'retry-after': '5' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    if (req.method === 'HEAD') return void res.end();
    streams.add(res);
    const push = (view: unknown): void => void res.write(`event: mesh\ndata: ${JSON.stringify(view)}\n\n`);
    if (o.source.current !== undefined) push(o.source.current);
    const unsubscribe = o.source.subscribe(push);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), o.heartbeatMs ?? 15_000);
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  }

  const server: Server = createServer({ maxHeaderSize: 16_384, headersTimeout: 10_000, requestTimeout: 0, keepAliveTimeout: 5_000 }, (req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => {});
    req.resume();
    try {
      handle(req, res);
    } catch (err) {
      log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'dashboard request failed');
      if (!res.headersSent) sendError(res, 500, 'ZTMESH_DASHBOARD_INTERNAL', 'internal error');
      else res.destroy();
    }
  });
  server.on('connection', (socket) => socket.on('error', () => {}));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MeshError('ZTMESH_DASHBOARD_LISTEN_FAILED', `dashboard cannot listen on ${o.listen.host}:${o.listen.port}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  server.on('error', (err) => log.error({ err: { message: err.message } }, 'dashboard server error'));
  const addr = server.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
