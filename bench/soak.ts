// `npm run soak`: issue 8's soak. Runs the ztmesh sidecar pair (the bench's configs, the same app)
// under wrk load for a given time and reports, per slice and overall, each sidecar's RSS, open file
// descriptors and the errors wrk saw. The point is drift: after warm-up, RSS and fds must stay flat.
//
//   node bench/soak.ts [--minutes 10] [--slice-seconds 30] [--connections 16] [--json FILE]
//
// Slices rotate through keep-alive /small, keep-alive /1k and `Connection: close` /small (a new
// mTLS-pooled upstream request per client connection), so connection setup and teardown are soaked
// too. It prints one line per slice and a summary: RSS after warm-up (the first rotation through the
// three loads), the median of the last three slices (drift = the difference), the maximum, and the fd counts.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openBenchSession, startBenchEnv } from './harness/bench-session.ts';
import { ztmeshPair } from './harness/contenders/ztmesh-pair.ts';
import { APP_PATHS } from './harness/nginx-config.ts';
import { ensureTools } from './harness/tools.ts';
import { runWrk } from './harness/wrk.ts';

const USAGE = `Usage: npm run soak -- [--minutes N] [--slice-seconds N] [--connections N] [--json FILE]

  --minutes N         how long to load the pair (default 10)
  --slice-seconds N   length of one wrk run between samples (default 30)
  --connections N     wrk connections (default 16)
  --json FILE         also write every sample and the summary as JSON
`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Sample {
  readonly slice: number;
  readonly load: string;
  readonly requestsPerSecond: number;
  readonly errors: number;
  readonly errorDetail: string | undefined;
  /** Per sidecar role: current RSS (VmRSS), peak (VmHWM), both MB, and open fds. */
  readonly proxies: Record<string, { rssMb: number; hwmMb: number; fds: number }>;
}

async function procFigures(pid: number): Promise<{ rssMb: number; hwmMb: number; fds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1] ?? NaN);
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, fds };
}

const LOADS = [
  { name: 'keep-alive /small', path: APP_PATHS.small, headers: ['Host: app'] },
  { name: 'keep-alive /1k', path: APP_PATHS.oneKiB, headers: ['Host: app'] },
  { name: 'close /small', path: APP_PATHS.small, headers: ['Host: app', 'Connection: close'] },
] as const;

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<number> {
  let options: { minutes: number; sliceSeconds: number; connections: number; json: string | undefined };
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        minutes: { type: 'string' }, 'slice-seconds': { type: 'string' }, connections: { type: 'string' }, json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      say(USAGE);
      return 0;
    }
    options = {
      minutes: positive(values.minutes, 'minutes', 10), sliceSeconds: positive(values['slice-seconds'], 'slice-seconds', 30),
      connections: positive(values.connections, 'connections', 16), json: values.json,
    };
  } catch (err) {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  try {
    await ensureTools(say);
  } catch (err) {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const session = await openBenchSession('ztmesh-soak-', 'soak');
  try {
    const env = await startBenchEnv(session, repoRoot);
    const pair = await ztmeshPair('ztmesh', 'ztmesh sidecar pair').start(env, 'http1');
    const slices = Math.max(1, Math.round((options.minutes * 60) / options.sliceSeconds));
    say(`soak: ${slices} slice(s) x ${options.sliceSeconds} s, wrk -t1 -c${options.connections}, pids ${pair.proxies.map((p) => `${p.role} ${p.child.pid}`).join(', ')}`);
    const started = Object.fromEntries(await Promise.all(pair.proxies.map(async (p) => [p.role, await procFigures(p.child.pid)] as const)));
    say(`start: ${Object.entries(started).map(([role, f]) => `${role} RSS ${f.rssMb.toFixed(1)} MB, fds ${f.fds}`).join('; ')}`);
    const samples: Sample[] = [];
    for (let slice = 0; slice < slices; slice++) {
      const load = LOADS[slice % LOADS.length]!;
      const { result } = await runWrk({
        url: `http://127.0.0.1:${pair.port}${load.path}`, connections: options.connections, threads: 1,
        durationSeconds: options.sliceSeconds, headers: load.headers,
      });
      const proxies: Sample['proxies'] = {};
      for (const p of pair.proxies) {
        if (p.child.exitStatus !== undefined) throw new Error(p.child.describeFailure('exited during the soak'));
        proxies[p.role] = await procFigures(p.child.pid);
      }
      const sample: Sample = {
        slice: slice + 1, load: load.name, requestsPerSecond: result.requestsPerSecond, errors: result.errors, errorDetail: result.errorDetail, proxies,
      };
      samples.push(sample);
      const figures = Object.entries(proxies).map(([role, f]) => `${role} RSS ${f.rssMb.toFixed(1)} MB (peak ${f.hwmMb.toFixed(1)}) fds ${f.fds}`).join('; ');
      say(`slice ${String(slice + 1).padStart(3)} ${load.name.padEnd(18)} ${Math.round(result.requestsPerSecond).toString().padStart(6)} req/s errors ${result.errors}${result.errorDetail !== undefined ? ` (${result.errorDetail})` : ''}  ${figures}`);
    }
    // Quiet: what each sidecar holds once the load stops (idle connections still pooled).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = Object.fromEntries(await Promise.all(pair.proxies.map(async (p) => [p.role, await procFigures(p.child.pid)] as const)));
    const summary: Record<string, unknown> = {};
    for (const p of pair.proxies) {
      const rss = samples.map((s) => s.proxies[p.role]!.rssMb);
      const fds = samples.map((s) => s.proxies[p.role]!.fds);
      // Warm-up is the first rotation through every load kind: each one may raise the high-water mark once.
      const warmIndex = Math.min(LOADS.length, rss.length) - 1;
      const warm = rss[warmIndex]!;
      const end = median(rss.slice(-3));
      summary[p.role] = {
        rssAfterWarmUpMb: warm, warmUpSlices: warmIndex + 1, rssMedianLastThreeMb: end, driftMb: end - warm, rssMaxMb: Math.max(...rss),
        peakRssMb: samples.at(-1)!.proxies[p.role]!.hwmMb, fdsMin: Math.min(...fds), fdsMax: Math.max(...fds), idleFds: idle[p.role]!.fds, idleRssMb: idle[p.role]!.rssMb,
      };
      say(
        `summary ${p.role}: RSS after warm-up (slice ${warmIndex + 1}) ${warm.toFixed(1)} MB, median of last 3 ${end.toFixed(1)} MB (drift ${(end - warm >= 0 ? '+' : '')}${(end - warm).toFixed(1)} MB), ` +
          `max ${Math.max(...rss).toFixed(1)} MB, peak ${samples.at(-1)!.proxies[p.role]!.hwmMb.toFixed(1)} MB; fds ${Math.min(...fds)}..${Math.max(...fds)} under load, ${idle[p.role]!.fds} idle`,
      );
    }
    const errors = samples.reduce((n, s) => n + s.errors, 0);
    const requests = samples.reduce((n, s) => n + s.requestsPerSecond * options.sliceSeconds, 0);
    say(`summary: ~${Math.round(requests).toLocaleString('en-US')} requests, ${errors} errors`);
    if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify({ options, started, samples, idle, summary, errors }, null, 2)}\n`);
    await pair.stop();
    return 0;
  } catch (err) {
    process.stderr.write(`soak: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await session.close();
  }
}

process.exitCode = await main();
