import { buildMeshView, type MeshView } from '../../dashboard/mesh-view.ts';
import type { MeshListener, MeshViewSource } from '../../dashboard/mesh-view-source.ts';
import type { SidecarReading } from '../../dashboard/sidecar-reading.ts';
import { mergeInventories } from './merged-inventory.ts';
import { latestPerWorkload, type PeerReports } from './peer-reports.ts';
import type { HeldReport, ReportStore } from './report-store.ts';

export interface ReportMeshSourceOptions {
  readonly store: ReportStore;
  /** The reports other operator replicas hold (each sidecar streams to one replica), when configured. */
  readonly peers?: PeerReports | undefined;
  /** New views are pushed at most this often (default 1 s). */
  readonly intervalMs?: number;
  readonly clock?: () => number;
}

/** A held report as the dashboard's reading of one sidecar; `admin` is the pod (NAMESPACE/NAME). */
export function readingOf(held: HeldReport): SidecarReading {
  const r = held.report;
  return {
    admin: held.source.workload,
    error: held.endedAt === undefined ? null : { code: 'ZTMESH_CONTROL_STREAM_FAILED', message: `its stream to the operator ended at ${new Date(held.endedAt).toISOString()}; last report shown` },
    identity: r.identity,
    samples: r.samples,
    decisions: r.decisions,
    inventory: r.inventory,
    anomalies: r.anomalies,
  };
}

/**
 * The dashboard's view in the operator: built from the sidecars' reports (instead of polling admin
 * ports), rebuilt when the store changed, pushed to the event streams at most once per interval.
 * Also the operator's `/inventory`: the merged inventory of every report.
 */
export class ReportMeshSource implements MeshViewSource {
  readonly #store: ReportStore;
  readonly #peers: PeerReports | undefined;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  readonly #listeners = new Set<MeshListener>();
  readonly #unsubscribe: () => void;
  #view: MeshView | undefined = undefined;
  #viewVersion = '';
  #viewAt = 0;
  #pushedVersion = '';
  #inventory: { version: string; at: number; value: Record<string, unknown> } | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #sweeper: NodeJS.Timeout;

  constructor(options: ReportMeshSourceOptions) {
    this.#store = options.store;
    this.#peers = options.peers;
    this.#clock = options.clock ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#unsubscribe = this.#store.onChange(() => this.#schedule());
    // Reports expire by time alone (after their stream's grace), and peers' reports change on their
    // own: look now and then.
    this.#sweeper = setInterval(() => {
      this.#store.sweep();
      if (this.#version() !== this.#pushedVersion) this.#schedule();
    }, 2000);
    this.#sweeper.unref();
  }

  /** The view, rebuilt when the reports changed, at most once per interval (a mesh of many sidecars reports all the time). */
  get current(): MeshView {
    const version = this.#version();
    const now = this.#clock();
    if (this.#view === undefined || (version !== this.#viewVersion && now - this.#viewAt >= this.#intervalMs)) {
      this.#viewVersion = version;
      this.#viewAt = now;
      this.#view = buildMeshView(this.#reports().map(readingOf), now);
    }
    return this.#view;
  }

  /** This replica's reports, and its peers' (the latest per pod). */
  #reports(): HeldReport[] {
    return this.#peers === undefined ? this.#store.reports() : latestPerWorkload(this.#store.reports(), this.#peers.reports());
  }

  #version(): string {
    return `${this.#store.version}/${this.#peers?.version ?? 0}`;
  }

  /** The mesh's inventory, in the shape of a sidecar's `/inventory` (see mergeInventories). */
  inventory(): Record<string, unknown> {
    const version = this.#version();
    const now = this.#clock();
    // Merged once per change of the reports and at most once per interval, however often it is asked for.
    if (this.#inventory === undefined || (this.#inventory.version !== version && now - this.#inventory.at >= this.#intervalMs)) {
      const reports = this.#reports().flatMap((h) => (h.report.inventory === null ? [] : [{ workload: h.source.workload, inventory: h.report.inventory }]));
      this.#inventory = { version, at: now, value: mergeInventories(reports, now) };
    }
    return this.#inventory.value;
  }

  subscribe(listener: MeshListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#sweeper);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#listeners.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const view = this.current;
      this.#pushedVersion = this.#viewVersion;
      for (const listener of this.#listeners) listener(view);
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
