/** One load-generator run, whatever the tool: totals and latency percentiles. */
export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly bytes: number;
  /** Requests that failed: connect/read/write errors, timeouts, non-2xx/3xx statuses. */
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number };
}
