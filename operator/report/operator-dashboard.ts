import { MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { startDashboardServer } from '../../dashboard/dashboard-server.ts';
import { formatHostPort, isLoopbackHost, type HostPort } from '../../sidecar/config/host-port.ts';
import { PEER_REPORTS_PATH, PeerReports, toPeerReport } from './peer-reports.ts';
import { ReportMeshSource } from './report-mesh-source.ts';
import type { ReportStore } from './report-store.ts';

export interface OperatorDashboardOptions {
  readonly listen: HostPort;
  /** The bearer token; required for a non-loopback address. */
  readonly token: string | undefined;
  readonly store: ReportStore;
  /**
   * The other replicas' dashboards (HOST:PORT each, this one's included or not), whose reports are
   * shown too: each sidecar streams to one replica. Needs the token (the replicas share it).
   */
  readonly peers?: (() => Promise<string[]>) | undefined;
  readonly peerIntervalMs?: number;
  readonly logger: Logger;
}

export interface RunningOperatorDashboard {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The dashboard served by the operator: the same server and page as `ztmesh dashboard`, fed by the
 * sidecars' reports instead of their admin ports, plus `/inventory` (the mesh's merged inventory,
 * read by `ztmesh inventory --from ADDR`). Loopback only unless a token protects it.
 */
export async function startOperatorDashboard(o: OperatorDashboardOptions): Promise<RunningOperatorDashboard> {
  if (!isLoopbackHost(o.listen.host) && o.token === undefined) {
    throw new MeshError('ZTMESH_DASHBOARD_TOKEN_REQUIRED', `--dashboard-listen ${formatHostPort(o.listen)} is not a loopback address: pass --dashboard-token-file FILE (a bearer token) to protect it`);
  }
  if (o.peers !== undefined && o.token === undefined) {
    throw new MeshError('ZTMESH_DASHBOARD_TOKEN_REQUIRED', 'reading peer replicas (--dashboard-peers) needs the shared bearer token (--dashboard-token-file)');
  }
  const peers = o.peers === undefined || o.token === undefined ? undefined : new PeerReports({ resolve: o.peers, token: o.token, logger: o.logger, ...(o.peerIntervalMs !== undefined ? { intervalMs: o.peerIntervalMs } : {}) });
  const source = new ReportMeshSource({ store: o.store, peers });
  const routes = new Map<string, () => unknown>([
    ['/inventory', () => source.inventory()],
    // This replica's own reports only (what its peers merge): never the peers' again.
    [PEER_REPORTS_PATH, () => o.store.reports().map(toPeerReport)],
  ]);
  let server;
  try {
    server = await startDashboardServer({ listen: o.listen, token: o.token, source, logger: o.logger, routes });
  } catch (err) {
    source.close();
    throw err;
  }
  peers?.start();
  return {
    port: server.address.port,
    async close() {
      peers?.stop();
      source.close();
      await server.close();
    },
  };
}
