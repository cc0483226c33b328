/**
 * A/B check of a data-plane change (not part of `npm run bench`): the ztmesh pair from this checkout
 * and, with --baseline DIR, from another checkout (e.g. `git worktree add /tmp/base HEAD~1`), each
 * against the Node TLS byte pipe, alternating over rounds in one run, with the bench's app, PKI and
 * configs. Prints per round and as medians: requests/s (or MB/s), the ratio to the byte pipe, and
 * CPU-seconds per 1,000 requests per sidecar. The byte pipe is the steadier yardstick on a shared
 * machine: nginx's figure moves more between runs than either Node contender's.
 *
 *   node bench/ab.ts [--baseline DIR] [--env K=V]... [--baseline-env K=V]... [--path /small]
 *                    [--connections 16] [--rounds 5] [--seconds 5]
 *
 * --env / --baseline-env add environment variables to either pair's sidecars (e.g.
 * ZTMESH_SIDECAR_V8_FLAGS=...); --baseline-env alone compares two settings of this checkout.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchEnv } from './harness/bench-env.ts';
import { openBenchSession, startBenchEnv } from './harness/bench-session.ts';
import type { ContenderSpec, RunningContender } from './harness/contender.ts';
import { nodeTlsPipe } from './harness/contenders/node-tls-pipe.ts';
import { ztmeshPair } from './harness/contenders/ztmesh-pair.ts';
import { sampleProcess } from './harness/proc-stats.ts';
import { median } from './harness/stats.ts';
import { ensureTools } from './harness/tools.ts';
import { runWrk } from './harness/wrk.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, env: { type: 'string', multiple: true, default: [] }, 'baseline-env': { type: 'string', multiple: true, default: [] },
    path: { type: 'string', default: '/small' }, connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' }, close: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

const USAGE = `Usage: node bench/ab.ts [options]

  --baseline DIR        also run the ztmesh pair of the checkout in DIR (node_modules linked)
  --env K=V             environment for this checkout's sidecars (repeatable)
  --baseline-env K=V    environment for the baseline's sidecars (repeatable); alone, the baseline is this checkout
  --path P              /small, /1k or /1m (default /small)
  --connections N       wrk connections (default 16)
  --close               a new client connection per request (Connection: close)
  --rounds N            alternating rounds (default 5)
  --seconds N           seconds per run (default 5)
  -h, --help            this text
`;
const HEADERS = values.close ? ['Host: app', 'Connection: close'] : ['Host: app'];
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

interface Entry { readonly name: string; readonly spec: ContenderSpec; readonly env: BenchEnv; running?: RunningContender; rps: number[]; mbps: number[]; p99: number[]; cpu: number[][]; peakMb: number[] }

async function measure(entry: Entry, seconds: number, connections: number, path: string): Promise<void> {
  const running = entry.running!;
  const before = await Promise.all(running.proxies.map((p) => sampleProcess(p.child.pid)));
  const { result } = await runWrk({ url: `http://127.0.0.1:${running.port}${path}`, connections, threads: 1, durationSeconds: seconds, headers: HEADERS });
  const after = await Promise.all(running.proxies.map((p) => sampleProcess(p.child.pid)));
  if (result.errors > 0) process.stdout.write(`${entry.name}: ${result.errorDetail}\n`);
  entry.rps.push(result.requestsPerSecond);
  entry.mbps.push(result.megabytesPerSecond);
  entry.p99.push(result.latencyMs.p99);
  entry.cpu.push(after.map((a, i) => ((a.cpuSeconds - before[i]!.cpuSeconds) / result.requests) * 1000));
  entry.peakMb = after.map((a) => a.peakRssBytes / 1048576);
}

async function main(): Promise<void> {
  await ensureTools((line) => process.stdout.write(`${line}\n`));
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const path = values.path!;
  const session = await openBenchSession('ztmesh-ab-', 'ab');
  try {
    const env = await startBenchEnv(session, repoRoot);
    const envOf = (pairs: string[]): Record<string, string> => Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const entries: Entry[] = [{ name: 'ztmesh', spec: ztmeshPair('ztmesh', 'this checkout', { env: envOf(values.env!) }), env, rps: [], mbps: [], p99: [], cpu: [], peakMb: [] }];
    if (values.baseline !== undefined || values['baseline-env']!.length > 0) {
      const root = values.baseline === undefined ? repoRoot : resolve(values.baseline);
      entries.push({ name: 'baseline', spec: ztmeshPair('baseline', 'baseline', { env: envOf(values['baseline-env']!) }), env: { ...env, repoRoot: root }, rps: [], mbps: [], p99: [], cpu: [], peakMb: [] });
    }
    entries.push({ name: 'byte pipe', spec: nodeTlsPipe, env, rps: [], mbps: [], p99: [], cpu: [], peakMb: [] });
    for (const e of entries) e.running = await e.spec.start(e.env, 'http1');
    for (const e of entries) await runWrk({ url: `http://127.0.0.1:${e.running!.port}${path}`, connections, threads: 1, durationSeconds: 2, headers: HEADERS });
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? entries : [...entries].reverse();
      for (const e of order) await measure(e, seconds, connections, path);
      const pipe = entries.at(-1)!;
      process.stdout.write(`round ${round + 1}: ${entries.map((e) => `${e.name} ${Math.round(e.rps.at(-1)!)} req/s ${e.mbps.at(-1)!.toFixed(0)} MB/s (${(e.rps.at(-1)! / pipe.rps.at(-1)!).toFixed(3)}x pipe) p99 ${e.p99.at(-1)!.toFixed(2)} ms cpu ${e.cpu.at(-1)!.map((c) => c.toFixed(3)).join('/')}`).join(' | ')}\n`);
    }
    const pipe = entries.at(-1)!;
    process.stdout.write(`\nmedians over ${rounds} rounds, wrk -t1 -c${connections} ${seconds}s ${path}:\n`);
    for (const e of entries) {
      const ratios = e.rps.map((r, i) => r / pipe.rps[i]!);
      const cpu = [0, 1].map((side) => median(e.cpu.map((c) => c[side]!)).toFixed(3)).join(' / ');
      process.stdout.write(`  ${e.name.padEnd(10)} ${Math.round(median(e.rps)).toString().padStart(6)} req/s ${median(e.mbps).toFixed(1).padStart(7)} MB/s  ${median(ratios).toFixed(3)}x pipe  p99 ${median(e.p99).toFixed(2)} ms  CPU-s/1k out/in ${cpu}  peak RSS MB ${e.peakMb.map((m) => m.toFixed(1)).join(' / ')}\n`);
    }
  } finally {
    await session.close();
  }
}

await main();
