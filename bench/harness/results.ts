/** The shapes of bench/results/latest.json. */

export interface RunSample {
  readonly round: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly errors: number;
  readonly errorDetail?: string;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number };
  /** CPU-seconds per 1,000 requests, per proxy process (by role). */
  readonly cpuPer1k: Readonly<Partial<Record<'outbound' | 'inbound', number>>>;
}

export interface ContenderResult {
  readonly id: string;
  readonly label: string;
  readonly family: string;
  /** False when it could not start or a feature it was meant to exercise was not in use; see `reason`. */
  readonly available: boolean;
  readonly reason?: string;
  readonly runs: readonly RunSample[];
  /** Medians over the rounds. */
  readonly median?: {
    readonly requestsPerSecond: number;
    readonly megabytesPerSecond: number;
    readonly errors: number;
    readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number };
    readonly cpuPer1k: Readonly<Partial<Record<'outbound' | 'inbound', number>>>;
  };
  /** VmHWM of each proxy process at the end of the scenario, in MB. */
  readonly peakRssMb?: Readonly<Partial<Record<'outbound' | 'inbound', number>>>;
  /** Median latency minus the direct contender's, in ms. */
  readonly addedLatencyMs?: { readonly p50: number; readonly p99: number };
  /** This contender's figure divided by the nginx pair's (throughput: higher is better; the rest: lower is better). */
  readonly vsNginx?: {
    readonly throughput: number;
    readonly p99: number;
    readonly cpuPer1kOutbound: number;
    readonly cpuPer1kInbound: number;
    readonly peakRssInbound: number;
  };
  readonly notes?: readonly string[];
}

export interface ScenarioResult {
  readonly id: string;
  readonly group: number;
  readonly title: string;
  readonly load: string;
  readonly headline: 'rps' | 'mbps';
  readonly contenders: readonly ContenderResult[];
}

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly wrk: string;
  readonly h2load: string;
  readonly openssl: string;
  readonly loadAverageAtStart: readonly number[];
  readonly loadAverageAtEnd: readonly number[];
}

export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly settings: { readonly rounds: number; readonly seconds: number; readonly warmupSeconds: number; readonly wrkThreads: number; readonly quick: boolean };
  readonly scenarios: readonly ScenarioResult[];
}
