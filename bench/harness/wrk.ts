import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load-result.ts';

export const WRK_REPORT_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationSeconds: number;
  readonly headers?: readonly string[];
  readonly timeoutSeconds?: number;
}

export function wrkArgs(options: WrkOptions): string[] {
  const args = [
    `-t${options.threads}`, `-c${options.connections}`, `-d${options.durationSeconds}s`,
    `--timeout`, `${options.timeoutSeconds ?? 5}s`, '--latency', '-s', WRK_REPORT_SCRIPT,
  ];
  for (const header of options.headers ?? []) args.push('-H', header);
  args.push(options.url);
  return args;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

/** Parses wrk's stdout, using the `WRK_JSON` line that wrk-report.lua prints. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no WRK_JSON line: ${stdout.slice(0, 400)}`);
  const json = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const seconds = json.durationUs / 1e6;
  const e = json.errors;
  const detail = Object.entries(e).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(', ');
  return {
    ...(detail === '' ? {} : { errorDetail: `wrk: ${detail}` }),
    requests: json.requests,
    durationSeconds: seconds,
    bytes: json.bytes,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
    requestsPerSecond: seconds > 0 ? json.requests / seconds : 0,
    megabytesPerSecond: seconds > 0 ? json.bytes / seconds / 1e6 : 0,
    latencyMs: { p50: json.latencyUs.p50 / 1000, p99: json.latencyUs.p99 / 1000, p999: json.latencyUs.p999 / 1000 },
  };
}

/** Runs wrk once (bounded by its own -d plus a margin) and parses the result. */
export function runWrk(options: WrkOptions): Promise<{ result: LoadResult; stdout: string }> {
  const limitMs = (options.durationSeconds + (options.timeoutSeconds ?? 5) + 15) * 1000;
  return new Promise((resolve, reject) => {
    execFile('wrk', wrkArgs(options), { timeout: limitMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`wrk failed: ${err.message.split('\n')[0]} ${stderr.trim()}`.trim(), { cause: err }));
        return;
      }
      try {
        resolve({ result: parseWrkOutput(stdout), stdout });
      } catch (parseErr) {
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
      }
    });
  });
}
