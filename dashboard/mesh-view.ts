import { buildMeshGraph, shortName, type MeshGraph } from './mesh-graph.ts';
import type { ObservedAnomaly, ObservedDecision, SidecarReading } from './sidecar-reading.ts';

/** One polled sidecar as the page shows it. */
export interface WorkloadView {
  readonly admin: string;
  readonly identity: string | null;
  readonly name: string;
  /** Every part of the admin port was read. */
  readonly healthy: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly certificate: { readonly serial: string; readonly notBefore: string; readonly notAfter: string; readonly expired: boolean } | null;
}

export interface InventoryRowView {
  readonly service: string;
  readonly method: string;
  readonly route: string;
  readonly callers: readonly string[];
  readonly count: number;
  readonly lastSeen: string;
  readonly sensitive: readonly string[];
  readonly declared: boolean;
}

/** Everything the page renders, served at /api/mesh and pushed on /api/events. */
export interface MeshView {
  readonly generatedAt: string;
  readonly workloads: readonly WorkloadView[];
  readonly graph: MeshGraph;
  /** Denials across the mesh, newest first; null when no sidecar serves /debug/decisions. */
  readonly denials: readonly (ObservedDecision & { readonly reportedBy: string })[] | null;
  /** null when no sidecar serves /inventory. */
  readonly inventory: { readonly apis: readonly InventoryRowView[]; readonly zombies: readonly { readonly service: string; readonly method: string; readonly route: string }[] } | null;
  /** null when no sidecar serves /debug/anomalies. */
  readonly anomalies: readonly (ObservedAnomaly & { readonly reportedBy: string })[] | null;
}

export const MAX_DENIALS_SHOWN = 100;
export const MAX_ANOMALIES_SHOWN = 100;
export const MAX_INVENTORY_ROWS = 1000;

function newestFirst<T extends { readonly time?: string | undefined }>(items: T[]): T[] {
  return items.sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''));
}

/** Assembles the page's view from one poll of every sidecar. Pure: `now` is the poll's time. */
export function buildMeshView(readings: readonly SidecarReading[], now: number): MeshView {
  const workloads = readings.map((r): WorkloadView => ({
    admin: r.admin,
    identity: r.identity?.spiffeId ?? null,
    name: r.identity === null ? r.admin : shortName(r.identity.spiffeId),
    healthy: r.error === null,
    error: r.error,
    certificate: r.identity === null ? null : { serial: r.identity.serial, notBefore: r.identity.notBefore, notAfter: r.identity.notAfter, expired: r.identity.expired },
  }));
  const graph = buildMeshGraph(readings.map((r) => ({ identity: r.identity?.spiffeId, samples: r.samples })));
  const nameOf = (r: SidecarReading): string => (r.identity === null ? r.admin : shortName(r.identity.spiffeId));

  const withDecisions = readings.filter((r) => r.decisions !== null);
  const denials = withDecisions.length === 0
    ? null
    : newestFirst(withDecisions.flatMap((r) => r.decisions!.denials.map((d) => ({ ...d, reportedBy: nameOf(r) })))).slice(0, MAX_DENIALS_SHOWN);

  const withInventory = readings.filter((r) => r.inventory !== null);
  const inventory = withInventory.length === 0
    ? null
    : {
        apis: withInventory
          .flatMap((r) => r.inventory!.apis.map((a) => ({ service: a.service, method: a.method, route: a.route, callers: a.callers, count: a.count, lastSeen: a.lastSeen, sensitive: a.sensitive, declared: a.declared })))
          .sort((a, b) => a.service.localeCompare(b.service) || a.route.localeCompare(b.route) || a.method.localeCompare(b.method))
          .slice(0, MAX_INVENTORY_ROWS),
        zombies: withInventory.flatMap((r) => r.inventory!.zombies.map((z) => ({ service: r.inventory!.service, method: z.method, route: z.route }))),
      };

  const withAnomalies = readings.filter((r) => r.anomalies !== null);
  const anomalies = withAnomalies.length === 0
    ? null
    : newestFirst(withAnomalies.flatMap((r) => r.anomalies!.map((a) => ({ ...a, reportedBy: nameOf(r) })))).slice(0, MAX_ANOMALIES_SHOWN);

  return { generatedAt: new Date(now).toISOString(), workloads, graph, denials, inventory, anomalies };
}
