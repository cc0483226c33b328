// `node bench/inventory-record.ts [--iterations N]`: the per-request cost of recording a request in
// the API inventory (route template + one map lookup + scope + end), the work the sidecar adds on
// every inbound request. Reference in the same run: the no-op observer (the data plane's floor).
// Paths: a fixed route, an id route (/users/<n>: template collapses, allocates the template), and a
// scanner (random paths, the cap already full: counted as overflow). Also measured: the anomaly
// detector (enabled, past its learning period) as a second observer, and a bare Map get+increment
// as the floor of "one map update". A second table: the response facts per response — content type
// only, with a sniffed JSON body (every response), and with the default sampling (1 in 100).
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
print(`ns per request, ${ITERATIONS} iterations, node ${process.version}`, rows);

// Response facts (what the data plane adds per response since the inventory reads them): the
// Content-Type value taken from the response head (one latin1 string), the scope's response() call
// (a string compare, and for a 2xx JSON body the sampling decision) and, for a sampled response,
// the JSON top-level scan of the body bytes as they pass (JsonResponseSniff over the wire buffer).
const HEAD = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\n\r\n', 'latin1');
const CT_START = HEAD.indexOf('application/json');
const CT_END = HEAD.indexOf('\r\n', CT_START);

function jsonBody(bytes: number): Buffer {
  const doc: Record<string, unknown> = { id: 12345, email: 'someone@example.com', name: 'Some One', active: true, roles: ['a', 'b'], address: { city: 'Z', zip: '1234' }, balance: 10.5, note: null };
  let filler = 0;
  while (JSON.stringify(doc).length < bytes) doc[`item${filler++}`] = { sku: `sku-${filler}`, qty: filler, tags: ['x', 'y'], text: 'lorem ipsum dolor sit amet' };
  return Buffer.from(JSON.stringify(doc));
}

function timeResponses(inventory: ApiInventory, request: RequestInfo, body: Buffer | undefined, iterations: number): number {
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const scope = inventory.start(request);
      if (body !== undefined) {
        const tap = scope.response!(200, HEAD.toString('latin1', CT_START, CT_END), false, 'length');
        if (tap !== undefined && tap.data(body, 0, body.length)) tap.end();
      }
      scope.end(OUTCOME);
    }
  };
  run(Math.min(iterations, 20_000)); // warm-up
  const start = process.hrtime.bigint();
  run(iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

const request = infos(['/api/v1/items'])[0]!;
/** Reference: JSON.parse of the same body (what a non-incremental sniff would pay, plus the copy to gather it). */
function timeParse(body: Buffer, iterations: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += Object.keys(JSON.parse(body.toString('utf8')) as object).length;
  if (sink === -1) process.stdout.write('');
  return Number(process.hrtime.bigint() - start) / iterations;
}

const responseRows: string[][] = [['JSON response body', 'request only', '+ content type, not sniffed', '+ sniffed (every response)', '+ default 1 in 100', 'scan ns/KiB', 'ref: JSON.parse']];
for (const bytes of [1024, 16 * 1024, 128 * 1024]) {
  const body = jsonBody(bytes);
  const sniffIters = Math.max(2000, Math.floor(ITERATIONS / Math.max(1, body.length / 256)));
  const never = new ApiInventory({ service: 'bench', responseFields: { enabled: true, sampleOneIn: 1_000_000_000, maxBytes: 65_536 } });
  const always = new ApiInventory({ service: 'bench', responseFields: { enabled: true, sampleOneIn: 1, maxBytes: 65_536 } });
  const sampled = new ApiInventory({ service: 'bench' });
  const bare = timeResponses(never, request, undefined, ITERATIONS);
  const typed = timeResponses(never, request, body, ITERATIONS);
  const sniffed = timeResponses(always, request, body, sniffIters);
  const oneIn100 = timeResponses(sampled, request, body, ITERATIONS);
  const scannedKiB = Math.min(body.length, 65_536) / 1024;
  responseRows.push([`${body.length} B${body.length > 65_536 ? ' (64 KiB read)' : ''}`, bare.toFixed(1), typed.toFixed(1), sniffed.toFixed(0), oneIn100.toFixed(1), ((sniffed - typed) / scannedKiB).toFixed(0), timeParse(body, sniffIters).toFixed(0)]);
}
print('ns per request, response recording on a known route (GET /api/v1/items, 200 application/json, Content-Length)', responseRows);

function print(title: string, table: string[][]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  process.stdout.write(`${title}\n`);
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  process.stdout.write('\n');
}
