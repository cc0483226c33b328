import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchEnv } from './bench-env.ts';
import type { ContenderSpec, MeasuredProcess, RunningContender } from './contender.ts';
import { GRPC_HEADERS } from './grpc-request.ts';
import { runH2load } from './h2load.ts';
import type { LoadResult } from './load-result.ts';
import { sampleProcess, type ProcSample } from './proc-stats.ts';
import { checkH2, checkHttp1, checkMtlsHttp1, tallyHttp1 } from './request-check.ts';
import { runSTime } from './s-time.ts';
import type { RunSample, ScenarioResult } from './results.ts';
import type { Scenario } from './scenarios.ts';
import { type RawContender, summarize } from './summarize.ts';
import { runWrk } from './wrk.ts';

export interface RunSettings {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly wrkThreads: number;
  /** Data file for gRPC requests (one framed Echo message). */
  readonly grpcDataFile: string;
  readonly ticksPerSecond: number;
  readonly say: (line: string) => void;
}

let h2loadLogs = 0;

/** One load run against `port`, with the scenario's tool and shape. */
export async function runLoad(scenario: Scenario, running: RunningContender, seconds: number, env: BenchEnv, settings: RunSettings): Promise<LoadResult> {
  const { load } = scenario;
  const { port } = running;
  if (load.tool === 's_time') {
    if (running.mtlsPort === undefined) throw new Error('no mTLS port to connect to');
    return runSTime(running.mtlsPort, seconds, env.pki.client, env.pki.bundleFile, load.path);
  }
  if (load.tool === 'wrk') {
    const { result } = await runWrk({
      url: `http://127.0.0.1:${port}${load.path}`, connections: load.connections, threads: settings.wrkThreads,
      durationSeconds: seconds, headers: load.headers,
    });
    return result;
  }
  h2loadLogs += 1;
  const { result } = await runH2load({
    url: `http://127.0.0.1:${port}${load.path}`, clients: load.clients, streamsPerClient: load.streams, threads: 1,
    durationSeconds: seconds, logFile: join(env.tmpDir, `h2load-${h2loadLogs}.log`),
    headers: [':authority: app', ...(load.grpc ? GRPC_HEADERS : [])],
    ...(load.grpc ? { dataFile: settings.grpcDataFile } : {}),
  });
  return result;
}

function describeLoad(scenario: Scenario, settings: RunSettings): string {
  const { load } = scenario;
  if (load.tool === 's_time') return `openssl s_time -new -tls1_3 (client SVID) -www ${load.path}, straight to the server-side proxy`;
  return load.tool === 'wrk'
    ? `wrk -t${settings.wrkThreads} -c${load.connections} ${load.headers.map((h) => `-H '${h}'`).join(' ')} GET ${load.path}`
    : `h2load -t1 -c${load.clients} -m${load.streams} ${load.grpc ? 'gRPC POST ' : 'GET '}${load.path}`;
}

async function check(scenario: Scenario, running: RunningContender, env: BenchEnv): Promise<void> {
  if (scenario.load.tool === 's_time') {
    if (running.mtlsPort === undefined) throw new Error('this contender has no mTLS port');
    await checkMtlsHttp1(running.mtlsPort, scenario.load.path, env.pki.client, env.pki.bundleFile, env.pki.server.spiffeId);
  } else if (scenario.app === 'http1') await checkHttp1(running.port, scenario.load.path, scenario.bodyBytes);
  else await checkH2(running.port, scenario.load.path, scenario.app === 'grpc');
}

function sampleAll(proxies: readonly MeasuredProcess[], ticks: number): Promise<ProcSample[]> {
  return Promise.all(proxies.map((p) => sampleProcess(p.child.pid, ticks)));
}

async function measure(scenario: Scenario, running: RunningContender, round: number, env: BenchEnv, settings: RunSettings): Promise<RunSample> {
  const roles = scenario.measureRoles ?? ['outbound', 'inbound'];
  const proxies = running.proxies.filter((p) => roles.includes(p.role));
  const before = await sampleAll(proxies, settings.ticksPerSecond);
  const load = await runLoad(scenario, running, settings.seconds, env, settings);
  const after = await sampleAll(proxies, settings.ticksPerSecond);
  const cpuPer1k: Partial<Record<'outbound' | 'inbound', number>> = {};
  proxies.forEach((p, i) => {
    cpuPer1k[p.role] = load.requests > 0 ? (after[i]!.cpuSeconds - before[i]!.cpuSeconds) / (load.requests / 1000) : Number.NaN;
  });
  return {
    round, requests: load.requests, requestsPerSecond: load.requestsPerSecond, megabytesPerSecond: load.megabytesPerSecond,
    errors: load.errors, latencyMs: load.latencyMs, cpuPer1k,
    ...(load.errorDetail === undefined ? {} : { errorDetail: load.errorDetail }),
  };
}

/**
 * Why a measured run failed, for the report: a proxy that died (with its log tail), or else the
 * load generator's complaint plus what one fresh checked request gets now (e.g. "answered 429").
 */
async function diagnose(err: unknown, scenario: Scenario, running: RunningContender, env: BenchEnv): Promise<string> {
  // A proxy that crashed may be reported by /proc before its 'exit' event: give that event a moment.
  await Promise.race([...running.proxies.map((p) => p.child.exited), delay(500)]);
  const dead = running.proxies.find((p) => p.child.exitStatus !== undefined);
  if (dead !== undefined) return dead.child.describeFailure(`the ${dead.role} proxy died during the run`);
  if (scenario.load.tool === 'wrk') {
    const tally = await tallyHttp1(running.port, scenario.load.path, 2000, 16);
    const answers = Object.entries(tally).map(([key, n]) => `${n}x ${key}`).join(', ');
    return `${messageOf(err)}; 2,000 requests sent afterwards got: ${answers}`;
  }
  try {
    await check(scenario, running, env);
    return `${messageOf(err)}; a request checked afterwards succeeded`;
  } catch (checkErr) {
    return `${messageOf(err)}; a request checked afterwards: ${messageOf(checkErr)}`;
  }
}

interface Slot {
  readonly spec: ContenderSpec;
  running: RunningContender | undefined;
  reason: string | undefined;
  readonly runs: RunSample[];
  peakRssMb: Partial<Record<'outbound' | 'inbound', number>> | undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs one scenario: starts every contender, checks one request through it, warms it up, then
 * measures the contenders in turn for `rounds` rounds (rotating who goes first), and stops them.
 * A contender that cannot start or serve is reported as not available, with the reason.
 */
export async function runScenario(scenario: Scenario, env: BenchEnv, settings: RunSettings): Promise<ScenarioResult> {
  const { say } = settings;
  say(`\n== scenario ${scenario.id}: ${scenario.title}`);
  const slots: Slot[] = scenario.contenders.map((spec) => ({ spec, running: undefined, reason: undefined, runs: [], peakRssMb: undefined }));
  for (const marker of Object.values(scenario.tracing ?? {})) env.sink.watch(marker);
  const exportsBefore = env.sink.exports;
  try {
    for (const slot of slots) {
      try {
        slot.running = await slot.spec.start(env, scenario.app);
        await check(scenario, slot.running, env);
        await runLoad(scenario, slot.running, settings.warmupSeconds, env, settings);
        say(`   ${slot.spec.id}: ready (port ${slot.running.port})`);
      } catch (err) {
        slot.reason = messageOf(err);
        say(`   ${slot.spec.id}: NOT AVAILABLE: ${slot.reason}`);
        await slot.running?.stop();
        slot.running = undefined;
      }
    }
    const live = slots.filter((s) => s.running !== undefined);
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (let i = 0; i < live.length; i += 1) {
        const slot = live[(i + round - 1) % live.length]!;
        if (slot.running === undefined) continue;
        try {
          const sample = await measure(scenario, slot.running, round, env, settings);
          if (sample.errors > sample.requests * 0.01) {
            throw new Error(`${sample.errors} of ${sample.requests} requests failed (${sample.errorDetail ?? 'errors or non-2xx statuses'})`);
          }
          slot.runs.push(sample);
          const cpu = Object.entries(sample.cpuPer1k).map(([role, v]) => `${role} ${v.toFixed(3)}`).join(', ');
          say(`   round ${round} ${slot.spec.id.padEnd(18)} ${sample.requestsPerSecond.toFixed(0).padStart(7)} req/s ${sample.megabytesPerSecond.toFixed(1).padStart(7)} MB/s  p50 ${sample.latencyMs.p50.toFixed(2)} p99 ${sample.latencyMs.p99.toFixed(2)} ms  errors ${sample.errors}${cpu === '' ? '' : `  cpu-s/1k: ${cpu}`}`);
        } catch (err) {
          slot.reason = `failed during round ${round}: ${await diagnose(err, scenario, slot.running, env)}`;
          say(`   ${slot.spec.id}: ${slot.reason}`);
          await slot.running.stop();
          slot.running = undefined;
        }
      }
    }
    for (const slot of live) {
      if (slot.running === undefined) continue;
      const samples = await sampleAll(slot.running.proxies, settings.ticksPerSecond).catch(() => undefined);
      if (samples !== undefined) {
        slot.peakRssMb = Object.fromEntries(slot.running.proxies.map((p, i) => [p.role, samples[i]!.peakRssBytes / 1e6]));
      }
    }
  } finally {
    // Stopping flushes what the sidecars still batch (trace exports) before the check below.
    await Promise.all(slots.map((slot) => slot.running?.stop()));
  }
  const exportsDuring = env.sink.exports - exportsBefore;
  const raw: RawContender[] = slots.map((slot) => {
    const marker = scenario.tracing?.[slot.spec.id];
    let available = slot.runs.length > 0 && slot.reason === undefined;
    let reason = slot.reason;
    const notes: string[] = [];
    if (available && marker !== undefined) {
      const seen = env.sink.markers.get(marker) ?? 0;
      if (seen > 0) notes.push(`${seen} OTLP exports reached the sink`);
      else if (exportsDuring > 0) notes.push(`${exportsDuring} OTLP exports reached the sink in this scenario (not attributable to this variant by service name)`);
      else {
        available = false;
        reason = 'not supported yet: the sidecar sent no spans to the OTLP endpoint (OTEL_TRACES_SAMPLER / OTEL_EXPORTER_OTLP_ENDPOINT ignored?)';
      }
    }
    return {
      id: slot.spec.id, label: slot.spec.label, family: slot.spec.family, available, runs: slot.runs,
      ...(reason === undefined ? {} : { reason }),
      ...(slot.peakRssMb === undefined ? {} : { peakRssMb: slot.peakRssMb }),
      ...(notes.length > 0 ? { notes } : {}),
    };
  });
  return { id: scenario.id, group: scenario.group, title: scenario.title, load: describeLoad(scenario, settings), headline: scenario.headline, contenders: summarize(raw, scenario.headline) };
}
