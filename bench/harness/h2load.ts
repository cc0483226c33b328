import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { LoadResult } from './load-result.ts';
import { percentileOfSorted } from './stats.ts';

export interface H2loadOptions {
  readonly url: string;
  readonly clients: number;
  readonly streamsPerClient: number;
  readonly threads: number;
  readonly durationSeconds: number;
  /** Per-request log (start, status, duration µs): the only source of latency percentiles. */
  readonly logFile: string;
  readonly headers?: readonly string[];
  /** Request body file (makes every request a POST), e.g. a gRPC-framed message. */
  readonly dataFile?: string;
}

export function h2loadArgs(options: H2loadOptions): string[] {
  const args = [
    '-c', String(options.clients), '-m', String(options.streamsPerClient), '-t', String(options.threads),
    '-D', String(options.durationSeconds), '--log-file', options.logFile,
  ];
  for (const header of options.headers ?? []) args.push('-H', header);
  if (options.dataFile !== undefined) args.push('-d', options.dataFile);
  args.push(options.url);
  return args;
}

/** Totals from h2load's summary (`requests: N total, ... N succeeded, N failed, N errored, N timeout`). */
export function parseH2loadSummary(stdout: string): { finishedSeconds: number; succeeded: number; failed: number; bytes: number; non2xx: number } {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(stdout);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  const traffic = /traffic: [^(]*\((\d+)\) total/.exec(stdout);
  if (finished === null || requests === null || codes === null) throw new Error(`unexpected h2load output: ${stdout.slice(0, 400)}`);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  return {
    finishedSeconds: seconds,
    succeeded: Number(requests[4]),
    failed: Number(requests[5]) + Number(requests[6]) + Number(requests[7]),
    bytes: traffic === null ? 0 : Number(traffic[1]),
    non2xx: Number(codes[3]) + Number(codes[4]),
  };
}

/** Request durations (ms), sorted, from an h2load --log-file (tab-separated: start µs, status, duration µs). */
export function parseH2loadLog(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const cols = line.split('\t');
    if (cols.length < 3) continue;
    const micros = Number(cols[2]);
    if (Number.isFinite(micros)) out.push(micros / 1000);
  }
  return out.sort((a, b) => a - b);
}

export async function runH2load(options: H2loadOptions): Promise<{ result: LoadResult; stdout: string }> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('h2load', h2loadArgs(options), { timeout: (options.durationSeconds + 20) * 1000, maxBuffer: 4 * 1024 * 1024 }, (err, out, stderr) => {
      if (err !== null) reject(new Error(`h2load failed: ${err.message.split('\n')[0]} ${stderr.trim()}`.trim(), { cause: err }));
      else resolve(out);
    });
  });
  const summary = parseH2loadSummary(stdout);
  const latencies = parseH2loadLog(await readFile(options.logFile, 'utf8'));
  // With -D, h2load's "finished in" includes ramp-up and drain; the measuring window is what -D asked for.
  const seconds = options.durationSeconds;
  const ok = summary.succeeded - summary.non2xx;
  return {
    stdout,
    result: {
      requests: summary.succeeded,
      durationSeconds: seconds,
      bytes: summary.bytes,
      errors: summary.failed + summary.non2xx,
      requestsPerSecond: ok / seconds,
      megabytesPerSecond: summary.bytes / seconds / 1e6,
      latencyMs: {
        p50: percentileOfSorted(latencies, 50),
        p99: percentileOfSorted(latencies, 99),
        p999: percentileOfSorted(latencies, 99.9),
      },
    },
  };
}
