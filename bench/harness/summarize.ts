import type { ContenderResult, RunSample } from './results.ts';
import { median, ratio } from './stats.ts';

/** What the runner knows of a contender after the rounds: its runs, before medians and ratios. */
export interface RawContender {
  readonly id: string;
  readonly label: string;
  readonly family: string;
  readonly available: boolean;
  readonly reason?: string;
  readonly runs: readonly RunSample[];
  readonly peakRssMb?: Readonly<Partial<Record<'outbound' | 'inbound', number>>>;
  readonly notes?: readonly string[];
}

function medianOf(runs: readonly RunSample[], pick: (r: RunSample) => number | undefined): number {
  return median(runs.map(pick).filter((v): v is number => v !== undefined));
}

function withMedian(raw: RawContender): ContenderResult {
  if (!raw.available || raw.runs.length === 0) return { ...raw, available: false, reason: raw.reason ?? 'no successful run', runs: raw.runs };
  const { runs } = raw;
  const roles = (['outbound', 'inbound'] as const).filter((role) => runs.some((r) => r.cpuPer1k[role] !== undefined));
  return {
    ...raw,
    median: {
      requestsPerSecond: medianOf(runs, (r) => r.requestsPerSecond),
      megabytesPerSecond: medianOf(runs, (r) => r.megabytesPerSecond),
      errors: medianOf(runs, (r) => r.errors),
      latencyMs: {
        p50: medianOf(runs, (r) => r.latencyMs.p50),
        p99: medianOf(runs, (r) => r.latencyMs.p99),
        p999: medianOf(runs, (r) => r.latencyMs.p999),
      },
      cpuPer1k: Object.fromEntries(roles.map((role) => [role, medianOf(runs, (r) => r.cpuPer1k[role])])),
    },
  };
}

/**
 * Medians over the rounds for every contender, then latency added over `direct` and ratios to the
 * nginx pair (`nginx`). A missing side gives NaN (shown as "n/a"), never a made-up figure.
 */
export function summarize(raw: readonly RawContender[], headline: 'rps' | 'mbps'): ContenderResult[] {
  const results = raw.map(withMedian);
  const direct = results.find((c) => c.id === 'direct')?.median;
  const nginx = results.find((c) => c.id === 'nginx');
  const throughput = (m: NonNullable<ContenderResult['median']>): number => (headline === 'mbps' ? m.megabytesPerSecond : m.requestsPerSecond);
  return results.map((c) => {
    if (c.median === undefined) return c;
    const m = c.median;
    const out: ContenderResult = {
      ...c,
      ...(direct !== undefined && c.id !== 'direct'
        ? { addedLatencyMs: { p50: m.latencyMs.p50 - direct.latencyMs.p50, p99: m.latencyMs.p99 - direct.latencyMs.p99 } }
        : {}),
      ...(nginx?.median !== undefined && c.family !== 'direct'
        ? {
            vsNginx: {
              throughput: ratio(throughput(m), throughput(nginx.median)),
              p99: ratio(m.latencyMs.p99, nginx.median.latencyMs.p99),
              cpuPer1kOutbound: ratio(m.cpuPer1k.outbound, nginx.median.cpuPer1k.outbound),
              cpuPer1kInbound: ratio(m.cpuPer1k.inbound, nginx.median.cpuPer1k.inbound),
              peakRssInbound: ratio(c.peakRssMb?.inbound, nginx.peakRssMb?.inbound),
            },
          }
        : {}),
    };
    return out;
  });
}
