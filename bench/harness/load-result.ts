/** One load-generator run, whatever the tool: totals and latency percentiles. */
export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly bytes: number;
  /** Requests that failed: connect/read/write errors, timeouts, non-2xx/3xx statuses. */
  readonly errors: number;
  /** Which failures, when there were any (e.g. "status 12, timeout 3"). */
  readonly errorDetail?: string;
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number };
}
