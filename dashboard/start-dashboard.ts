import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import type { Logger } from '../core/telemetry/logger.ts';
import { formatHostPort, isLoopbackHost, parseHostPort, type HostPort } from '../sidecar/config/host-port.ts';
import { startDashboardServer } from './dashboard-server.ts';
import { MeshPoller } from './mesh-poller.ts';

export interface DashboardOptions {
  readonly listen: HostPort;
  /** Sidecar admin addresses, HOST:PORT. */
  readonly sources: readonly string[];
  /** Required when `listen` is not a loopback address. */
  readonly token: string | undefined;
  /** How often the sidecars are read (default 2 s). */
  readonly intervalMs?: number;
  /** Per-request timeout towards a sidecar (default 2 s). */
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

export interface RunningDashboard {
  readonly address: HostPort;
  /** The page's address, e.g. http://127.0.0.1:8090/ */
  readonly url: string;
  close(): Promise<void>;
}

/** Parses a --listen or --from address; a bad one is ZTMESH_DASHBOARD_BAD_ADDRESS naming the flag. */
export function parseDashboardAddress(text: string, flag: string, options: { allowZero?: boolean } = {}): HostPort {
  try {
    return parseHostPort(text.trim(), options);
  } catch (err) {
    throw new MeshError('ZTMESH_DASHBOARD_BAD_ADDRESS', `${flag}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Starts the dashboard: a first round of reads of every sidecar (so the page has data at once),
 * then the web server and the periodic polling. Refuses a non-loopback address without a token
 * (ZTMESH_DASHBOARD_TOKEN_REQUIRED): the dashboard shows the mesh's identities, paths and policies.
 */
export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  if (!isLoopbackHost(o.listen.host) && o.token === undefined) {
    throw new MeshError(
      'ZTMESH_DASHBOARD_TOKEN_REQUIRED',
      `--listen ${formatHostPort(o.listen)} is not a loopback address: pass --token-file FILE (a bearer token) to protect it, or listen on 127.0.0.1`,
    );
  }
  if (o.sources.length === 0) throw new MeshError('ZTMESH_DASHBOARD_BAD_ADDRESS', '--from names no sidecar admin address');
  for (const s of o.sources) parseDashboardAddress(s, '--from');
  const poller = new MeshPoller({
    sources: o.sources, intervalMs: o.intervalMs ?? 2000, timeoutMs: o.timeoutMs ?? 2000,
    onError: (err) => o.logger.warn({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'dashboard poll failed'),
  });
  await poller.start();
  let server;
  try {
    server = await startDashboardServer({ listen: o.listen, token: o.token, source: poller, logger: o.logger });
  } catch (err) {
    poller.stop();
    throw err;
  }
  const address = server.address;
  return {
    address,
    url: `http://${formatHostPort(address)}/`,
    close: async () => {
      poller.stop();
      await server.close();
    },
  };
}
