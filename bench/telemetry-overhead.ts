// `node bench/telemetry-overhead.ts [--requests N] [--rounds N] [--protocol grpc|http/protobuf]`:
// the per-request cost of the sidecar's RequestObserver (start + end), in-process, against the
// no-op observer as the reference in the same run: metrics and audit only (tracing off), then
// tracing at 0%, 10% and 100% parent-based ratio sampling, exporting over a real OTLP connection
// to a receiver that decodes and discards, in a worker thread (this same file). The exporter's work
// runs on the main thread between chunks of requests and is included: the figure is the main
// thread's CPU time (process.threadCpuUsage: neither waiting on the collector nor being descheduled
// on a busy machine counts) per request, median of rounds, plus heap bytes allocated per request
// (from V8's GC profiler).
import { GCProfiler } from 'node:v8';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import { createTracing, type TracingSetup } from '../core/telemetry/tracing-setup.ts';
import { createRequestObserver } from '../sidecar/telemetry/create-request-observer.ts';
import { allow } from '../sidecar/telemetry/fake-request-info.ts';
import { noopObserver, type RequestInfo, type RequestObserver } from '../sidecar/telemetry/request-observer.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../test/fixtures/otlp-receiver.ts';
import { median } from './harness/stats.ts';

const { values } = parseArgs({
  args: isMainThread ? process.argv.slice(2) : [],
  options: {
    requests: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    protocol: { type: 'string', default: 'grpc' },
  },
  strict: true,
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const PROTOCOL = values.protocol === 'http/protobuf' ? 'http/protobuf' : 'grpc';
const CHUNK = 500;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

// Realistic inputs, built once (the data plane builds them per request; their cost is not telemetry's).
const headers: Record<string, string> = { 'user-agent': 'bench/1', 'content-type': 'application/json' };
const decision = allow('shop/allow-frontend', 0);
function info(path: string): RequestInfo {
  return {
    direction: 'inbound',
    method: 'GET',
    path,
    host: 'items.shop.svc',
    sourcePrincipal: 'spiffe://mesh.test/ns/web/sa/frontend',
    destinationPrincipal: 'spiffe://mesh.test/ns/shop/sa/items',
    service: undefined,
    sourceIp: '10.1.2.3',
    destinationPort: 8080,
    traceparent: undefined,
    tracestate: undefined,
    b3: undefined,
    decision,
    header: (name) => headers[name],
  };
}
const INFOS = [info('/api/items'), info('/api/items/1'), info('/api/orders')];
const OUTCOME = { status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 512 };

interface Row {
  readonly name: string;
  readonly nsPerRequest: number;
  readonly bytesPerRequest: number;
  readonly spansExported: number;
  readonly spansDropped: number;
}

/**
 * Main-thread CPU time while `fn` runs, and heap bytes allocated: growth between GCs plus the
 * growth after the last one.
 */
async function measure(fn: () => Promise<void>): Promise<{ ns: number; bytes: number }> {
  const profiler = new GCProfiler();
  const before = process.memoryUsage().heapUsed;
  profiler.start();
  const cpu0 = process.threadCpuUsage();
  await fn();
  const cpu = process.threadCpuUsage(cpu0);
  const ns = (cpu.user + cpu.system) * 1000;
  const after = process.memoryUsage().heapUsed;
  const stats = profiler.stop()?.statistics ?? [];
  let allocated = 0;
  let base = before;
  for (const gc of stats) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - base);
    base = gc.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += Math.max(0, after - base);
  return { ns, bytes: allocated };
}

async function drive(observer: RequestObserver, n: number): Promise<void> {
  for (let done = 0; done < n; done += CHUNK) {
    for (let i = 0; i < CHUNK; i++) observer.start(INFOS[i % 3]!).end(OUTCOME);
    // Let the exporter's timers and sockets run, as they would between requests on a sidecar.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function tracingAt(receiver: RemoteReceiver, registry: Registry, ratio: number): Promise<TracingSetup> {
  const config = tracingConfigFromEnv(
    {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: receiver.protocol,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(ratio),
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // Large enough that the tight loop here drops nothing: every sampled span's export is paid for.
      OTEL_BSP_MAX_QUEUE_SIZE: String(REQUESTS + 20_000),
    },
    'bench',
  );
  return createTracing(config!, { registry, scope: 'ztmesh-sidecar' });
}

function observerFor(registry: Registry, tracing: TracingSetup | undefined): RequestObserver {
  return createRequestObserver({
    registry,
    logger: silentLogger(),
    audit: { sampleAllowed: 0 },
    tracing,
    workload: { namespace: 'shop', labels: { app: 'items' }, identity: () => 'spiffe://mesh.test/ns/shop/sa/items' },
  });
}

function dropped(registry: Registry): number {
  const text = registry.render();
  let total = 0;
  for (const m of text.matchAll(/^ztmesh_telemetry_spans_dropped_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

/** The receiver, running in a worker thread; `spanCount()` asks it how many spans it decoded. */
interface RemoteReceiver {
  readonly protocol: 'grpc' | 'http/protobuf';
  readonly url: string;
  spanCount(): Promise<number>;
  close(): Promise<void>;
}

async function startRemoteReceiver(): Promise<RemoteReceiver> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { protocol: PROTOCOL } });
  // One question at a time: each answer resolves the oldest pending question.
  const pending: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  worker.on('message', (v: unknown) => pending.shift()?.resolve(v));
  worker.on('error', (err) => {
    for (const p of pending.splice(0)) p.reject(err);
  });
  const ask = (msg: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      pending.push({ resolve, reject });
      worker.postMessage(msg);
    });
  const url = (await ask('url')) as string;
  return {
    protocol: PROTOCOL,
    url,
    spanCount: async () => (await ask('count')) as number,
    close: async () => {
      await ask('close');
      await worker.terminate();
    },
  };
}

async function receiverThread(): Promise<void> {
  const receiver: OtlpReceiver = await startOtlpReceiver((workerData as { protocol: 'grpc' | 'http/protobuf' }).protocol, { discard: true });
  parentPort!.on('message', (msg: string) => {
    if (msg === 'url') parentPort!.postMessage(receiver.url);
    else if (msg === 'count') parentPort!.postMessage(receiver.spanCount);
    else if (msg === 'close') void receiver.close().then(() => parentPort!.postMessage('closed'));
  });
}

async function run(name: string, make: () => Promise<{ observer: RequestObserver; registry?: Registry; tracing?: TracingSetup }>, receiver: RemoteReceiver): Promise<Row> {
  const ns: number[] = [];
  const bytes: number[] = [];
  const { observer, registry, tracing } = await make();
  await drive(observer, 20_000); // warm-up: JIT, cached metric children, exporter connection
  await tracing?.forceFlush();
  const exportedBefore = await receiver.spanCount();
  const droppedBefore = registry === undefined ? 0 : dropped(registry);
  for (let r = 0; r < ROUNDS; r++) {
    const m = await measure(async () => {
      await drive(observer, REQUESTS);
      await tracing?.forceFlush();
    });
    ns.push(m.ns / REQUESTS);
    bytes.push(m.bytes / REQUESTS);
  }
  await tracing?.shutdown();
  return {
    name,
    nsPerRequest: median(ns),
    bytesPerRequest: median(bytes),
    spansExported: (await receiver.spanCount()) - exportedBefore,
    spansDropped: registry === undefined ? 0 : dropped(registry) - droppedBefore,
  };
}

async function main(): Promise<void> {
  const receiver = await startRemoteReceiver();
  try {
    const rows: Row[] = [];
    rows.push(await run('no-op observer (reference)', async () => ({ observer: noopObserver }), receiver));
    rows.push(
      await run('metrics + audit, tracing off', async () => {
        const registry = new Registry();
        return { observer: observerFor(registry, undefined), registry };
      }, receiver),
    );
    for (const ratio of [0, 0.1, 1]) {
      rows.push(
        await run(`tracing, ${ratio * 100}% sampled`, async () => {
          const registry = new Registry();
          const tracing = await tracingAt(receiver, registry, ratio);
          return { observer: observerFor(registry, tracing), registry, tracing };
        }, receiver),
      );
    }
    const reference = rows[0]!.nsPerRequest;
    say(`telemetry overhead per request (start + end), node ${process.version}, ${REQUESTS} requests x ${ROUNDS} rounds, OTLP ${PROTOCOL}`);
    say('');
    say('| configuration | CPU ns/request | over no-op | heap bytes/request | spans exported | spans dropped |');
    say('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      say(`| ${r.name} | ${r.nsPerRequest.toFixed(0)} | ${(r.nsPerRequest - reference).toFixed(0)} | ${r.bytesPerRequest.toFixed(0)} | ${r.spansExported} | ${r.spansDropped} |`);
    }
  } finally {
    await receiver.close();
  }
}

if (isMainThread) await main();
else await receiverThread();
