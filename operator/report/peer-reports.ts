import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { PromSample } from '../../dashboard/prometheus-text.ts';
import { formatHostPort } from '../../sidecar/config/host-port.ts';
import type { SidecarReportMessage } from '../distribute/distribution-proto.ts';
import type { HeldReport } from './report-store.ts';
import { validateReport, type ValidReport } from './validate-report.ts';

/** The path on which a replica's dashboard serves its own reports to its peers. */
export const PEER_REPORTS_PATH = '/api/reports';
const MAX_PEER_BODY_BYTES = 96 * 1024 * 1024;

/** One report as a replica hands it to its peers: where it came from, and the report as the sidecar sent it. */
export interface PeerReport {
  readonly workload: string;
  readonly identity: string;
  readonly receivedAt: number;
  readonly endedAt: number | null;
  readonly message: SidecarReportMessage;
}

const peerReportSchema = z.object({
  workload: z.string().max(317),
  identity: z.string().max(2048),
  receivedAt: z.number().int().nonnegative(),
  endedAt: z.number().int().nonnegative().nullable(),
  message: z.object({
    sequence: z.number(), generatedAt: z.number(), identityJson: z.string(), inventoryJson: z.string(), decisionsJson: z.string(),
    anomaliesJson: z.string(), requestsText: z.string(), truncated: z.array(z.string()),
  }),
});
const peerReportsSchema = z.array(peerReportSchema).max(10_000);

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function samplesText(samples: readonly PromSample[]): string {
  return samples.map((s) => `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}} ${s.value}\n`).join('');
}

/** A kept report back in its wire form (the inventory with every field it came with). */
export function toPeerReport(held: HeldReport): PeerReport {
  const r: ValidReport = held.report;
  const json = (v: unknown): string => (v === null ? '' : JSON.stringify(v));
  return {
    workload: held.source.workload,
    identity: held.source.identity,
    receivedAt: held.receivedAt,
    endedAt: held.endedAt ?? null,
    message: {
      sequence: r.sequence, generatedAt: r.generatedAt, identityJson: json(r.identity), inventoryJson: json(r.inventory), decisionsJson: json(r.decisions),
      anomaliesJson: json(r.anomalies), requestsText: samplesText(r.samples), truncated: [...r.truncated],
    },
  };
}

export interface PeerReportsOptions {
  /** The peers' dashboard addresses, HOST:PORT (this replica among them is harmless). */
  readonly resolve: () => Promise<string[]>;
  /** The dashboard bearer token, shared by the replicas. */
  readonly token: string;
  readonly logger: Logger;
  /** How often peers are read (default 5 s). */
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** What the peers' reports may hold in all, in payload bytes (default 64 MiB). */
  readonly maxBytes?: number;
}

/**
 * The reports other operator replicas hold (each sidecar streams to one replica): read from every
 * peer's dashboard (`/api/reports`, with the shared bearer token) every few seconds, validated
 * again like a sidecar's own, within a byte budget. A peer that cannot be read contributes nothing
 * until it can (logged at most once a minute per peer).
 */
export class PeerReports {
  readonly #o: PeerReportsOptions;
  readonly #byPeer = new Map<string, HeldReport[]>();
  readonly #loggedAt = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined = undefined;
  #round: Promise<void> | undefined = undefined;
  #version = 0;
  #stopped = false;

  constructor(options: PeerReportsOptions) {
    this.#o = options;
  }

  get version(): number {
    return this.#version;
  }

  /** Every peer's reports, as last read. */
  reports(): HeldReport[] {
    return [...this.#byPeer.values()].flat();
  }

  start(): void {
    const tick = (): void => {
      this.#timer = setTimeout(() => void this.refresh().finally(() => !this.#stopped && tick()), this.#o.intervalMs ?? 5000);
      this.#timer.unref();
    };
    void this.refresh().finally(() => !this.#stopped && tick());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** One round of reads now (never overlapping). */
  refresh(): Promise<void> {
    this.#round ??= this.#refresh().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #refresh(): Promise<void> {
    let peers: string[];
    try {
      peers = await this.#o.resolve();
    } catch (err) {
      this.#warn('resolve', err);
      peers = [];
    }
    const results = await Promise.all(peers.map(async (peer) => [peer, await this.#read(peer)] as const));
    this.#byPeer.clear();
    let bytes = 0;
    for (const [peer, reports] of results) {
      const kept: HeldReport[] = [];
      for (const r of reports) {
        bytes += r.report.bytes;
        if (bytes > (this.#o.maxBytes ?? 64 * 1024 * 1024)) break;
        kept.push(r);
      }
      this.#byPeer.set(peer, kept);
    }
    this.#version++;
  }

  async #read(peer: string): Promise<HeldReport[]> {
    try {
      const res = await fetch(`http://${peer}${PEER_REPORTS_PATH}`, { headers: { authorization: `Bearer ${this.#o.token}` }, signal: AbortSignal.timeout(this.#o.timeoutMs ?? 3000), redirect: 'error' });
      const text = await res.text();
      if (res.status !== 200) throw new MeshError('ZTMESH_CONTROL_PEER_REPORTS_FAILED', `${peer} answered ${res.status}`);
      if (text.length > MAX_PEER_BODY_BYTES) throw new MeshError('ZTMESH_CONTROL_PEER_REPORTS_FAILED', `${peer}: answer over ${MAX_PEER_BODY_BYTES} bytes`);
      const parsed = peerReportsSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new MeshError('ZTMESH_CONTROL_PEER_REPORTS_FAILED', `${peer}: not a list of reports`);
      const out: HeldReport[] = [];
      for (const p of parsed.data) {
        try {
          out.push({ source: { workload: p.workload, identity: p.identity, streamId: -1 }, report: validateReport(p.message), receivedAt: p.receivedAt, endedAt: p.endedAt ?? undefined });
        } catch (err) {
          this.#warn(peer, err);
        }
      }
      return out;
    } catch (err) {
      this.#warn(peer, err);
      return [];
    }
  }

  #warn(peer: string, err: unknown): void {
    const now = Date.now();
    if (now - (this.#loggedAt.get(peer) ?? -Infinity) < 60_000) return;
    if (this.#loggedAt.size > 1000) this.#loggedAt.clear();
    this.#loggedAt.set(peer, now);
    this.#o.logger.warn({ peer, code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'cannot read a peer replica\'s reports');
  }
}

/** The peers of a replica: every address `name` resolves to (a headless Service), at `port`. */
export function dnsPeers(name: string, port: number): () => Promise<string[]> {
  return async () => (await lookup(name, { all: true })).map((a) => formatHostPort({ host: a.address, port }));
}

/** Local and peer reports, one per pod: the latest report wins (the local one on a tie). */
export function latestPerWorkload(local: readonly HeldReport[], peers: readonly HeldReport[]): HeldReport[] {
  const out = new Map<string, HeldReport>();
  for (const r of [...local, ...peers]) {
    const seen = out.get(r.source.workload);
    if (seen === undefined || r.report.generatedAt > seen.report.generatedAt) out.set(r.source.workload, r);
  }
  return [...out.values()].sort((a, b) => a.source.workload.localeCompare(b.source.workload));
}
