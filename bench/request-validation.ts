// `node bench/request-validation.ts [--iterations N]`: the per-request cost of request validation
// (sidecar/validation) with a declared API of 200 routes (100 literal, 100 templated): the route
// lookup for routes without a schema, an undeclared path, a query checked against its schema, and a
// ~200-byte JSON body parsed and checked. References in the same run: a linear scan of one anchored
// regular expression per route (the naive matcher), and JSON.parse alone for the body.
import { parseArgs } from 'node:util';
import { isRefusal } from '../sidecar/errors/refusal.ts';
import { compileRequestValidation, type ValidatedRequest } from '../sidecar/validation/request-validator.ts';
import type { BodyCheck } from '../sidecar/validation/body-check.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { iterations: { type: 'string', default: '1000000' } } });
const ITERATIONS = Number(values.iterations);

const routes: { method: 'GET' | 'POST'; path: string; body?: Record<string, unknown>; query?: Record<string, unknown> }[] = [];
for (let i = 0; i < 100; i++) routes.push({ method: 'GET', path: `/api/v1/resource${i}` });
for (let i = 0; i < 100; i++) routes.push({ method: 'GET', path: `/api/v1/resource${i}/{id}/items/{itemId}` });
routes.push({ method: 'GET', path: '/search', query: { type: 'object', required: ['q'], properties: { q: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 100 } } } });
routes.push({
  method: 'POST', path: '/orders',
  body: {
    type: 'object', required: ['item', 'qty'], additionalProperties: false,
    properties: { item: { type: 'string', minLength: 1 }, qty: { type: 'integer', minimum: 1 }, note: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, address: { type: 'object', properties: { street: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } } } },
  },
});
const validator = compileRequestValidation({ openapi: undefined, routes, refuseUndeclared: false, maxBodyBytes: 1 << 20, source: 'bench' });

const request = (method: string, path: string): ValidatedRequest => ({ method, path, header: (n) => (n === 'content-type' ? 'application/json' : undefined) });
const BODY = Buffer.from(JSON.stringify({ item: 'a book about zero trust', qty: 2, note: 'leave at the door, please', tags: ['gift', 'fragile', 'express'], address: { street: '1 Mesh Street', zip: '12345' } }));

function time(fn: (i: number) => unknown, iterations: number): number {
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 50_000); i++) sink += fn(i) === undefined ? 0 : 1;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn(i) === undefined ? 0 : 1;
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  if (sink === -1) process.stdout.write('');
  return ns;
}

// The naive matcher: one anchored regular expression per route, tried in order.
const regexes = routes.map((r) => ({ method: r.method, re: new RegExp(`^${r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
const naive = (method: string, path: string): number | undefined => {
  for (let i = 0; i < regexes.length; i++) if (regexes[i]!.method === method && regexes[i]!.re.test(path)) return i;
  return undefined;
};

const workloads: readonly (readonly [string, string, string, string])[] = [
  ['literal route, no schema', 'GET', '/api/v1/resource77', '/api/v1/resource77'],
  ['templated route, no schema', 'GET', '/api/v1/resource77/42/items/7', '/api/v1/resource77/42/items/7'],
  ['undeclared path', 'GET', '/api/v2/unknown/1', '/api/v2/unknown/1'],
  ['query schema', 'GET', '/search', '/search?q=mesh&limit=10'],
];
const rows: string[][] = [['workload', 'validator.check', 'regex scan (reference)']];
for (const [name, method, path, target] of workloads) {
  const req = request(method, path);
  const check = time(() => validator.check(req, target, false), ITERATIONS);
  const scan = time(() => naive(method, path), ITERATIONS);
  rows.push([name, check.toFixed(1), scan.toFixed(1)]);
}
print(`ns per request, ${ITERATIONS} iterations, ${routes.length} declared routes, node ${process.version}`, rows);

const bodyCheck = validator.check(request('POST', '/orders'), '/orders', true) as BodyCheck;
const bodyIterations = Math.max(1, Math.floor(ITERATIONS / 10));
const run = time(() => {
  const r = bodyCheck.run(BODY, false, 'application/json');
  return isRefusal(r) ? undefined : r;
}, bodyIterations);
const parse = time(() => JSON.parse(BODY.toString('utf8')) as unknown, bodyIterations);
print(`ns per body (${BODY.length} bytes JSON), ${bodyIterations} iterations`, [['BodyCheck.run (parse + schema)', 'JSON.parse alone (reference)'], [run.toFixed(1), parse.toFixed(1)]]);

function print(title: string, table: string[][]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  process.stdout.write(`${title}\n`);
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  process.stdout.write('\n');
}
