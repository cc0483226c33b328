// `node bench/inventory-record.ts [--iterations N]`: the per-request cost of recording a request in
// the API inventory (route template + one map lookup + scope + end), the work the sidecar adds on
// every inbound request. Reference in the same run: the no-op observer (the data plane's floor).
// Paths: a fixed route, an id route (/users/<n>: template collapses, allocates the template), and a
// scanner (random paths, the cap already full: counted as overflow). Also measured: the anomaly
// detector (enabled, past its learning period) as a second observer, and a bare Map get+increment
// as the floor of "one map update".
import { parseArgs } from 'node:util';
import { routeTemplate } from '../core/http/route-template.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { anomalyConfig } from '../sidecar/anomaly/anomaly-config.ts';
import { AnomalyDetector } from '../sidecar/anomaly/anomaly-detector.ts';
import { ApiInventory } from '../sidecar/inventory/api-inventory.ts';
import { fakeRequestInfo } from '../sidecar/telemetry/fake-request-info.ts';
import { noopObserver, type RequestInfo, type RequestObserver, type RequestOutcome } from '../sidecar/telemetry/request-observer.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { iterations: { type: 'string', default: '1000000' } } });
const ITERATIONS = Number(values.iterations);
const OUTCOME: RequestOutcome = { status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 512 };
const CALLERS = Array.from({ length: 8 }, (_, i) => `spiffe://mesh.test/ns/shop/sa/client${i}`);

function infos(paths: readonly string[]): RequestInfo[] {
  return paths.map((path, i) => fakeRequestInfo({ path, sourcePrincipal: CALLERS[i % CALLERS.length]! }));
}

function timeObserver(observer: RequestObserver, requests: readonly RequestInfo[], iterations: number): number {
  const n = requests.length;
  for (let i = 0; i < Math.min(iterations, 50_000); i++) observer.start(requests[i % n]!).end(OUTCOME); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) observer.start(requests[i % n]!).end(OUTCOME);
  return Number(process.hrtime.bigint() - start) / iterations;
}

function timeTemplate(paths: readonly string[], iterations: number): number {
  let sink = 0;
  const n = paths.length;
  for (let i = 0; i < Math.min(iterations, 50_000); i++) sink += routeTemplate(paths[i % n]!).length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += routeTemplate(paths[i % n]!).length;
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  if (sink === -1) process.stdout.write('');
  return ns;
}

let seed = 1;
const rand = (): string => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed.toString(36);
};
const workloads: readonly (readonly [string, string[]])[] = [
  ['fixed route  /api/v1/items', ['/api/v1/items']],
  ['id route     /users/<n>/orders/<uuid>', Array.from({ length: 1024 }, (_, i) => `/users/${i * 31}/orders/3f2504e0-4f89-11d3-9a0c-${String(i).padStart(12, '0')}`)],
  ['scanner      random paths, cap full', Array.from({ length: 4096 }, () => `/${rand()}/${rand()}.php`)],
];

function timeMapUpdate(paths: readonly string[], iterations: number): number {
  const counts = new Map<string, number>();
  const n = paths.length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const p = paths[i % n]!;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const rows: string[][] = [['workload', 'noop observer', 'Map get+set', 'inventory', 'routeTemplate', 'anomaly detector']];
for (const [name, paths] of workloads) {
  const requests = infos(paths);
  const inventory = new ApiInventory({ service: 'bench', maxRoutes: 500 });
  // Learning period 0: every request goes through the full set of checks.
  const detector = new AnomalyDetector({ config: anomalyConfig({ enabled: true, learningPeriod: 0, minLearningRequests: 1, alertCooldown: '1h' }), logger: silentLogger(), registry: new Registry() });
  const noop = timeObserver(noopObserver, requests, ITERATIONS);
  const inv = timeObserver(inventory, requests, ITERATIONS);
  const anomaly = timeObserver(detector, requests, ITERATIONS);
  rows.push([name, noop.toFixed(1), timeMapUpdate(paths, ITERATIONS).toFixed(1), inv.toFixed(1), timeTemplate(paths, ITERATIONS).toFixed(1), anomaly.toFixed(1)]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
process.stdout.write(`ns per request, ${ITERATIONS} iterations, node ${process.version}\n`);
for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
