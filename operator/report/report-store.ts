import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { SidecarReportMessage } from '../distribute/distribution-proto.ts';
import { validateReport, type ValidReport } from './validate-report.ts';

/** Who sent a report: established by the distribution server (SVID and authorized subscription), never by the report. */
export interface ReportSource {
  /** The pod, NAMESPACE/NAME. */
  readonly workload: string;
  /** The SPIFFE ID of the sidecar's SVID. */
  readonly identity: string;
  /** The subscription stream it came on. */
  readonly streamId: number;
}

/** A kept report and where it came from. */
export interface HeldReport {
  readonly source: ReportSource;
  readonly report: ValidReport;
  readonly receivedAt: number;
  /** When its stream ended (it is dropped `graceMs` later), or undefined while the stream is open. */
  readonly endedAt: number | undefined;
}

/** The distribution server's side of the store: what it tells about reports and streams. */
export interface ReportSink {
  /** Validates and keeps a report; never throws (a refusal is counted and logged). */
  receive(source: ReportSource, message: SidecarReportMessage): void;
  /** The stream is gone: its pod's report is kept for the grace period, then dropped. */
  streamEnded(source: ReportSource): void;
}

export interface ReportStats {
  readonly held: number;
  readonly bytes: number;
  readonly accepted: number;
  /** Refusals by code (ZTMESH_CONTROL_BAD_REPORT, ZTMESH_CONTROL_REPORT_DROPPED). */
  readonly refused: Readonly<Record<string, number>>;
  readonly expired: number;
}

export interface ReportStoreOptions {
  readonly logger: Logger;
  /** How long a report outlives its stream (a reconnecting sidecar keeps its place); default 60 s. */
  readonly graceMs?: number;
  /** Memory budget: the sum of the held reports' payload sizes; default 64 MiB. */
  readonly maxBytes?: number;
  /** At most this many pods' reports; default 10 000. */
  readonly maxReports?: number;
  /**
   * Rate of reports per stream: one per `minIntervalMs` (default 500 ms; sidecars send at most one
   * a second) with bursts of up to `burst` (default 5: reports queued while either side was busy
   * arrive together); past it they are dropped.
   */
  readonly minIntervalMs?: number;
  readonly burst?: number;
  readonly clock?: () => number;
}

const DEFAULT_MAX_REPORTS = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** A pod's refusals of one code are logged at most this often (all are counted). */
export const LOG_EVERY_MS = 10_000;

interface Entry {
  source: ReportSource;
  report: ValidReport;
  receivedAt: number;
  endedAt: number | undefined;
}

/**
 * The operator's reports of what sidecars observed: the latest valid one per authenticated pod,
 * kept while its stream lives and for a grace period after, within a byte budget and a count cap.
 * A malformed, oversized, too frequent or over-budget report is refused (counted by code, logged
 * with the pod and the reason at most every 10 s per pod and code), and the pod's previous report stays.
 */
export class ReportStore implements ReportSink {
  readonly #o: ReportStoreOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Token buckets per stream: reports allowed now, and when that was computed. */
  readonly #buckets = new Map<number, { tokens: number; at: number }>();
  readonly #refused = new Map<string, number>();
  /** When a refusal was last logged, per pod and code: a sidecar sending junk in a loop cannot flood the log. */
  readonly #loggedAt = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  #bytes = 0;
  #accepted = 0;
  #expired = 0;
  #version = 0;

  constructor(options: ReportStoreOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'reports' });
    this.#clock = options.clock ?? Date.now;
  }

  /** Changes with every kept, replaced or dropped report (views rebuild when it moves). */
  get version(): number {
    this.sweep();
    return this.#version;
  }

  receive(source: ReportSource, message: SidecarReportMessage): void {
    const now = this.#clock();
    try {
      const every = this.#o.minIntervalMs ?? 500;
      const burst = this.#o.burst ?? 5;
      const bucket = this.#buckets.get(source.streamId) ?? { tokens: burst, at: now };
      bucket.tokens = every <= 0 ? burst : Math.min(burst, bucket.tokens + Math.max(0, now - bucket.at) / every);
      bucket.at = now;
      this.#buckets.set(source.streamId, bucket);
      if (bucket.tokens < 1) throw new MeshError('ZTMESH_CONTROL_REPORT_DROPPED', `reports come more often than one every ${every} ms (bursts of ${burst})`);
      bucket.tokens -= 1;
      const report = validateReport(message);
      this.sweep();
      const previous = this.#entries.get(source.workload);
      const bytes = this.#bytes - (previous?.report.bytes ?? 0) + report.bytes;
      const maxReports = this.#o.maxReports ?? DEFAULT_MAX_REPORTS;
      const maxBytes = this.#o.maxBytes ?? DEFAULT_MAX_BYTES;
      if (previous === undefined && this.#entries.size >= maxReports) {
        this.#evictEnded();
        if (this.#entries.size >= maxReports) throw new MeshError('ZTMESH_CONTROL_REPORT_DROPPED', `${this.#entries.size} pods' reports are held already`);
      }
      if (bytes > maxBytes && !this.#evictEnded(bytes - maxBytes)) {
        throw new MeshError('ZTMESH_CONTROL_REPORT_DROPPED', `the report memory budget (${maxBytes} bytes) is full`);
      }
      this.#bytes += report.bytes - (this.#entries.get(source.workload)?.report.bytes ?? 0);
      this.#entries.set(source.workload, { source, report, receivedAt: now, endedAt: undefined });
      this.#accepted++;
      this.#changed();
    } catch (err) {
      const code = errorCode(err);
      this.#refused.set(code, (this.#refused.get(code) ?? 0) + 1);
      const key = `${source.workload} ${code}`;
      const logged = this.#loggedAt.get(key);
      if (logged === undefined || now - logged >= LOG_EVERY_MS) {
        if (this.#loggedAt.size >= 10_000) this.#loggedAt.clear();
        this.#loggedAt.set(key, now);
        this.#log.warn({ code, workload: source.workload, identity: source.identity, reason: err instanceof Error ? err.message : String(err) }, 'sidecar report refused; policy delivery is not affected');
      }
    }
  }

  streamEnded(source: ReportSource): void {
    this.#buckets.delete(source.streamId);
    const entry = this.#entries.get(source.workload);
    // A reconnected sidecar's newer stream owns the report now: the old stream's end does not count.
    if (entry === undefined || entry.source.streamId !== source.streamId || entry.endedAt !== undefined) return;
    entry.endedAt = this.#clock();
    this.#changed();
  }

  /** Drops the reports whose stream ended longer than the grace period ago. */
  sweep(): void {
    const cutoff = this.#clock() - (this.#o.graceMs ?? 60_000);
    for (const [key, entry] of this.#entries) {
      if (entry.endedAt !== undefined && entry.endedAt <= cutoff) this.#drop(key, entry);
    }
  }

  /** The held reports, by pod name order. */
  reports(): HeldReport[] {
    this.sweep();
    return [...this.#entries.values()].sort((a, b) => a.source.workload.localeCompare(b.source.workload)).map((e) => ({ ...e }));
  }

  stats(): ReportStats {
    this.sweep();
    return { held: this.#entries.size, bytes: this.#bytes, accepted: this.#accepted, refused: Object.fromEntries(this.#refused), expired: this.#expired };
  }

  /** Told after each change (kept, replaced, ended or dropped report). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops ended reports, oldest end first, until `needed` bytes are freed (or any ended, with no `needed`). */
  #evictEnded(needed?: number): boolean {
    const ended = [...this.#entries].filter(([, e]) => e.endedAt !== undefined).sort(([, a], [, b]) => a.endedAt! - b.endedAt!);
    let freed = 0;
    for (const [key, entry] of ended) {
      if (needed !== undefined && freed >= needed) break;
      freed += entry.report.bytes;
      this.#drop(key, entry);
      if (needed === undefined) break;
    }
    return needed === undefined ? freed > 0 : freed >= needed;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.report.bytes;
    this.#expired++;
    this.#changed();
  }

  #changed(): void {
    this.#version++;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#log.warn({ code: errorCode(err) }, 'report listener failed');
      }
    }
  }
}
