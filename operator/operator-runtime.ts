import type { Tracer } from '@opentelemetry/api';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../core/telemetry/logger.ts';
import { startOperatorAdmin, type RunningOperatorAdmin } from './admin/operator-admin-server.ts';
import { clusterSources, type ClusterSources } from './cluster-sources.ts';
import { ControlLoop } from './control-loop.ts';
import { startDistributionServer, type RunningDistributionServer } from './distribute/distribution-server.ts';
import type { PemIdentity } from './distribute/mtls-server-credentials.ts';
import { LeaseElector } from './kube/lease-elector.ts';
import { kubeStatusWriter } from './kube/status-writer.ts';
import { startOperatorDashboard, type RunningOperatorDashboard } from './report/operator-dashboard.ts';
import { dnsPeers } from './report/peer-reports.ts';
import { ReportStore } from './report/report-store.ts';
import type { HostPort } from '../sidecar/config/host-port.ts';

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  readonly trustDomain: string;
  /** The operator's own SVID (spiffe://<td>/ns/ztmesh-system/sa/ztmesh-operator), for the distribution service. */
  readonly identity: PemIdentity;
  readonly distributionListen: string;
  readonly adminListen: string;
  readonly lease: { readonly namespace: string; readonly name: string; readonly identity: string; readonly durationMs?: number; readonly retryMs?: number };
  readonly logger: Logger;
  /** Traces each reconcile (OTEL_* configured); undefined: no spans. */
  readonly tracer?: Tracer | undefined;
  readonly watchBackoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly resyncMs?: number;
  /** Called when this replica gains or loses the Lease (after the control loop is scheduled). */
  readonly onLeadershipChange?: () => void;
  /** How long a sidecar's report outlives its stream (default 60 s). */
  readonly reportGraceMs?: number;
  /** The dashboard and merged inventory of the sidecars' reports, served when set. */
  readonly dashboard?: { readonly listen: HostPort; readonly token: string | undefined; readonly peers?: string | undefined } | undefined;
}

export interface RunningOperator {
  readonly distributionPort: number;
  readonly adminPort: number;
  /** The dashboard's port, when served. */
  readonly dashboardPort: number | undefined;
  readonly loop: ControlLoop;
  /** True while this replica holds the Lease. */
  isLeader(): boolean;
  /** Swaps the distribution service's serving SVID (rotation); new connections use it. */
  rotateIdentity(identity: PemIdentity): void;
  stop(): Promise<void>;
}

/**
 * Wires the operator: watches → control loop (pure reconcilers) → policy distribution and, while
 * this replica holds the Lease, status writes; the admin endpoint reports readiness from the
 * watches' health. Distribution is served by every replica (sidecars may reach any of them).
 */
export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  let loop: ControlLoop | undefined;
  // What the sidecars report on their streams (inventory, denials, anomalies, identity), per pod.
  const reports = new ReportStore({ logger: o.logger, ...(o.reportGraceMs !== undefined ? { graceMs: o.reportGraceMs } : {}) });
  const distribution: RunningDistributionServer = await startDistributionServer({ listen: o.distributionListen, identity: o.identity, trustDomain: o.trustDomain, logger: o.logger, onAck: () => loop?.schedule(), reports });
  const sources: ClusterSources = clusterSources({ kubeConfig: o.kubeConfig, logger: o.logger, onChange: () => loop?.schedule(), ...(o.watchBackoff ? { backoff: o.watchBackoff } : {}), ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}) });
  const elector = new LeaseElector({
    kubeConfig: o.kubeConfig,
    namespace: o.lease.namespace,
    name: o.lease.name,
    identity: o.lease.identity,
    ...(o.lease.durationMs !== undefined ? { leaseDurationMs: o.lease.durationMs } : {}),
    ...(o.lease.retryMs !== undefined ? { retryMs: o.lease.retryMs } : {}),
    logger: o.logger,
    onChange: () => {
      loop?.schedule();
      o.onLeadershipChange?.();
    },
  });
  loop = new ControlLoop({ sources, distribution, statusWriter: kubeStatusWriter(o.kubeConfig), isLeader: () => elector.isLeader(), trustDomain: o.trustDomain, logger: o.logger, tracer: o.tracer });
  const controlLoop = loop;
  let admin: RunningOperatorAdmin;
  let dashboard: RunningOperatorDashboard | undefined;
  try {
    admin = await startOperatorAdmin({ listen: o.adminListen, logger: o.logger, informers: () => sources.health(), view: () => ({ ...controlLoop.view(), informers: sources.health(), reports: reports.stats() }) });
    try {
      const d = o.dashboard;
      if (d !== undefined) {
        const peers = d.peers === undefined ? undefined : dnsPeers(d.peers, d.listen.port);
        dashboard = await startOperatorDashboard({ listen: d.listen, token: d.token, store: reports, peers, logger: o.logger });
      }
    } catch (err) {
      await admin.close();
      throw err;
    }
  } catch (err) {
    await distribution.close();
    throw err;
  }
  elector.start();
  await sources.start();
  controlLoop.schedule();
  return {
    distributionPort: distribution.port,
    adminPort: admin.port,
    dashboardPort: dashboard?.port,
    loop: controlLoop,
    isLeader: () => elector.isLeader(),
    rotateIdentity: (identity) => distribution.rotate(identity),
    async stop() {
      await elector.stop();
      await sources.stop();
      await distribution.close();
      await dashboard?.close();
      await admin.close();
    },
  };
}
