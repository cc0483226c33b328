import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../ca/testing/test-ca.ts';
import { main } from '../cli/main.ts';
import { mtlsConnect } from './fixtures/pki-pair.ts';
import { httpGet, metricValue, startSidecar, waitForReady, writeIdentityFiles, writeSidecarConfig, yaml, type SidecarAddresses, type ZtmeshProcess } from './helpers/sidecar-process.ts';

// A real `ztmesh sidecar` process for "orders" with requestValidation (an OpenAPI 3.0 document with
// $refs into components, refuseUndeclared on), in front of an app that speaks HTTP/1.1 and h2c on
// one port; callers over mTLS: raw TLS sockets (pipelining), an HTTP/2 client, and a second sidecar
// process ("frontend") whose outbound listener the test calls like an app would.

const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;

const OPENAPI = `
openapi: 3.0.3
info: { title: orders, version: "1" }
paths:
  /orders:
    get:
      parameters:
        - { name: status, in: query, required: true, schema: { type: string, enum: [open, closed] } }
        - { name: limit, in: query, schema: { type: integer, maximum: 100 } }
      responses: { "200": { description: ok } }
    post:
      requestBody:
        required: true
        content: { application/json: { schema: { $ref: "#/components/schemas/NewOrder" } } }
      responses: { "201": { description: created } }
  /orders/{orderId}:
    get: { responses: { "200": { description: ok } } }
    patch:
      requestBody: { content: { application/json: { schema: { type: object } } } }
      responses: { "200": { description: ok } }
  /health:
    get: { responses: { "200": { description: ok } } }
components:
  schemas:
    NewOrder:
      type: object
      required: [item, qty]
      additionalProperties: false
      properties:
        item: { type: string, minLength: 1 }
        qty: { type: integer, minimum: 1 }
        note: { type: string, nullable: true }
`;

interface Seen {
  readonly protocol: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One parsed HTTP/1.1 response from a raw socket. */
interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Reads exactly `n` complete responses (Content-Length framed, as the app and the sidecar's errors are) from `socket`. */
function readResponses(socket: Socket, n: number): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: RawResponse[] = [];
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
        const status = Number(lines[0]!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        if (status === 100) {
          buf = buf.subarray(headEnd + 4);
          continue;
        }
        const len = Number(headers['content-length'] ?? 0);
        if (buf.length < headEnd + 4 + len) return;
        out.push({ status, headers, body: buf.toString('utf8', headEnd + 4, headEnd + 4 + len) });
        buf = buf.subarray(headEnd + 4 + len);
        if (out.length === n) {
          socket.off('data', onData);
          resolve(out);
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`connection closed after ${out.length} of ${n} responses`)));
  });
}

function errorCode(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => { f(String(chunk)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: new PassThrough(), env: {}, cwd: process.cwd() });
  return { code, out, err };
}

describe('request validation and declared-API conformance in real sidecar processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-validation-'));
  const seen: Seen[] = [];
  const procs: ZtmeshProcess[] = [];
  const sockets: TLSSocket[] = [];
  let ca: TestCa;
  let app: NetServer;
  let h1: HttpServer;
  let orders: { proc: ZtmeshProcess; addr: SidecarAddresses };
  let frontend: { proc: ZtmeshProcess; addr: SidecarAddresses };
  let caller: { certChainPem: string; keyPem: string };
  let h2: ClientHttp2Session | undefined;

  const inboundPort = (): number => Number(orders.addr.inbound.slice(orders.addr.inbound.lastIndexOf(':') + 1));
  const connect = (): TLSSocket => {
    const s = mtlsConnect(inboundPort(), caller, ca.bundlePem);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD });
    // The app: HTTP/1.1 and h2c (prior knowledge) on one port; every request it receives is recorded.
    const answer = (protocol: string, method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): { status: number; text: string } => {
      seen.push({ protocol, method, url, headers, body });
      return { status: method === 'POST' ? 201 : 200, text: JSON.stringify({ got: body.length }) };
    };
    h1 = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const a = answer('http/1.1', req.method!, req.url!, req.headers, Buffer.concat(chunks));
        res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.text) }).end(a.text);
      });
    });
    const h2app = createH2Server();
    h2app.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const a = answer('h2', String(headers[':method']), String(headers[':path']), headers, Buffer.concat(chunks));
        stream.respond({ ':status': a.status, 'content-type': 'application/json' });
        stream.end(a.text);
      });
    });
    app = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        // The h2 session reads what is buffered itself; the HTTP/1.1 server needs the socket flowing again.
        if (first.toString('latin1', 0, 3) === 'PRI') {
          h2app.emit('connection', socket);
        } else {
          h1.emit('connection', socket);
          socket.resume();
        }
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;

    writeFileSync(join(dir, 'orders-api.yaml'), OPENAPI);
    const policy = join(dir, 'orders-policy.yaml');
    writeFileSync(policy, yaml({
      apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'orders' } }, rules: [{ from: [{ source: { principals: [FRONTEND] } }] }] },
    }));
    const empty = join(dir, 'frontend-policy.yaml');
    writeFileSync(empty, '');
    const ordersId = await writeIdentityFiles(ca, dir, 'orders', ORDERS);
    const frontendId = await writeIdentityFiles(ca, dir, 'frontend', FRONTEND);
    orders = await startSidecar(writeSidecarConfig(dir, TD, 'orders', {
      workload: { namespace: 'shop', name: 'orders', labels: { app: 'orders' } },
      identity: ordersId,
      inbound: { listen: '127.0.0.1:0', app: `127.0.0.1:${appPort}` },
      outbound: { listen: '127.0.0.1:0' },
      policyFile: policy,
      requestValidation: { openapi: 'orders-api.yaml', refuseUndeclared: true, maxBodyBytes: 4096, routes: [{ method: 'put', path: '/orders/{id}/tags', body: { type: 'array', items: { type: 'string' } } }] },
    }, '1s'));
    procs.push(orders.proc);
    frontend = await startSidecar(writeSidecarConfig(dir, TD, 'frontend', {
      workload: { namespace: 'shop', name: 'frontend', labels: { app: 'frontend' } },
      identity: frontendId,
      inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
      outbound: { listen: '127.0.0.1:0', services: { orders: { address: orders.addr.inbound, identity: ORDERS } } },
      policyFile: empty,
    }, '1s'));
    procs.push(frontend.proc);
    await waitForReady(orders.addr.admin);
    await waitForReady(frontend.addr.admin);
    const svid = await ca.mint({ spiffeId: FRONTEND });
    caller = { certChainPem: svid.certChainPem, keyPem: svid.keyPem };
  }, 90_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    h2?.close();
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards a valid body byte-identical; refuses an invalid one with 400 before the app sees it; pipelined requests after it are answered in order', async () => {
    const before = seen.length;
    const valid = '{ "item": "book",\n  "qty": 2, "note": null }';
    const invalid = '{"item":"book","qty":0,"note":"4111-1111-1111-1111"}';
    const socket = connect();
    const responses = readResponses(socket, 4);
    socket.write(
      `POST /orders HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(invalid)}\r\n\r\n${invalid}` +
      `POST /orders HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(valid)}\r\n\r\n${valid}` +
      'GET /orders?status=open&limit=1000 HTTP/1.1\r\nHost: orders\r\n\r\n' +
      'GET /orders?status=closed&limit=7 HTTP/1.1\r\nHost: orders\r\n\r\n',
    );
    const [r1, r2, r3, r4] = await responses;
    expect(r1!.status).toBe(400);
    expect(errorCode(r1!.body)).toBe('ZTMESH_VALIDATION_BODY_INVALID');
    expect(r1!.body).toContain('/qty must be >= 1');
    expect(r1!.body).not.toContain('4111');
    expect(r1!.headers['connection']).toBeUndefined(); // the body was read whole: the connection stays usable
    expect(r2!.status).toBe(201);
    expect(r3!.status).toBe(400);
    expect(errorCode(r3!.body)).toBe('ZTMESH_VALIDATION_QUERY_INVALID');
    expect(r3!.body).toContain('/limit must be <= 100');
    expect(r4!.status).toBe(200);
    const got = seen.slice(before);
    expect(got.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /orders', 'GET /orders?status=closed&limit=7']);
    expect(got[0]!.body.toString()).toBe(valid);
    expect(got[0]!.headers['content-length']).toBe(String(Buffer.byteLength(valid)));
  });

  it('re-frames a chunked body with Content-Length, answers Expect: 100-continue itself, and refuses malformed JSON and non-JSON bodies', async () => {
    const before = seen.length;
    const socket = connect();
    const first = readResponses(socket, 1);
    socket.write('PUT /orders/17/tags HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', (c: Buffer) => (c.toString('latin1').startsWith('HTTP/1.1 100 Continue') ? resolve() : undefined)));
    socket.write('5\r\n["a",\r\n5\r\n "b"]\r\n0\r\n\r\n');
    expect((await first)[0]!.status).toBe(200);
    const got = seen.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.body.toString()).toBe('["a", "b"]');
    expect(got[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(got[0]!.headers['expect']).toBeUndefined();
    expect(got[0]!.headers['content-length']).toBe('10');

    // A 415 is decided on the head, before the body is read: that connection closes after it.
    const more = readResponses(socket, 3);
    socket.write(
      'PUT /orders/17/tags HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n["a",' +
      'PUT /orders/17/tags HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n[1,2]' +
      'PUT /orders/17/tags HTTP/1.1\r\nHost: orders\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    );
    const [malformed, wrongType, notJson] = await more;
    expect([malformed!.status, errorCode(malformed!.body)]).toEqual([400, 'ZTMESH_VALIDATION_MALFORMED_JSON']);
    expect([wrongType!.status, errorCode(wrongType!.body)]).toEqual([400, 'ZTMESH_VALIDATION_BODY_INVALID']);
    expect(wrongType!.body).toContain('/0 must be string');
    expect([notJson!.status, errorCode(notJson!.body), notJson!.headers['connection']]).toEqual([415, 'ZTMESH_VALIDATION_UNSUPPORTED_MEDIA_TYPE', 'close']);
    expect(seen.length).toBe(before + 1);
  });

  it('refuses undeclared routes with 403 and bodies over the validation limit with 413', async () => {
    const before = seen.length;
    const socket = connect();
    const responses = readResponses(socket, 2);
    socket.write('DELETE /orders/17 HTTP/1.1\r\nHost: orders\r\n\r\nGET /debug/vars HTTP/1.1\r\nHost: orders\r\n\r\n');
    for (const r of await responses) expect([r.status, errorCode(r.body)]).toEqual([403, 'ZTMESH_VALIDATION_UNDECLARED_ROUTE']);
    const big = connect();
    const tooLarge = readResponses(big, 1);
    big.write(`POST /orders HTTP/1.1\r\nHost: orders\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`);
    const [r] = await tooLarge;
    expect([r!.status, errorCode(r!.body)]).toEqual([413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE']);
    expect(seen.length).toBe(before);
  });

  it('validates HTTP/2 streams the same way', async () => {
    h2 = h2connect(`https://127.0.0.1:${inboundPort()}`, { cert: caller.certChainPem, key: caller.keyPem, ca: ca.bundlePem, checkServerIdentity: () => undefined });
    h2.on('error', () => undefined);
    const session = h2;
    const call = (method: string, path: string, body?: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':method': method, ':path': path, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, { endStream: body === undefined });
        let status = 0;
        let text = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (text += c));
        req.on('end', () => resolve({ status, body: text }));
        req.on('error', reject);
        if (body !== undefined) req.end(body);
      });
    const before = seen.length;
    const valid = '{"item":"pen","qty":3}';
    expect((await call('POST', '/orders', valid)).status).toBe(201);
    const invalid = await call('POST', '/orders', '{"item":"pen","qty":3,"extra":true}');
    expect([invalid.status, errorCode(invalid.body)]).toEqual([400, 'ZTMESH_VALIDATION_BODY_INVALID']);
    expect(invalid.body).toContain('must NOT have additional properties');
    const query = await call('GET', '/orders?status=unknown');
    expect([query.status, errorCode(query.body)]).toEqual([400, 'ZTMESH_VALIDATION_QUERY_INVALID']);
    const undeclared = await call('DELETE', '/orders/9');
    expect([undeclared.status, errorCode(undeclared.body)]).toEqual([403, 'ZTMESH_VALIDATION_UNDECLARED_ROUTE']);
    expect((await call('GET', '/orders/9')).status).toBe(200);
    // No content-length: the DATA frames are counted as they arrive, 413 past maxBodyBytes (4096).
    const big = await call('POST', '/orders', `{"item":"${'x'.repeat(5000)}","qty":1}`);
    expect([big.status, errorCode(big.body)]).toEqual([413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE']);
    const got = seen.slice(before);
    expect(got.map((s) => `${s.protocol} ${s.method} ${s.url}`)).toEqual(['h2 POST /orders', 'h2 GET /orders/9']);
    expect(got[0]!.body.toString()).toBe(valid);
  });

  it('passes a valid body sent by an app through its own sidecar (chunked by the client), unchanged', async () => {
    const before = seen.length;
    const body = JSON.stringify({ item: 'lamp', qty: 1, note: 'fragile \u00e9' });
    const [host, port] = [frontend.addr.outbound.slice(0, frontend.addr.outbound.lastIndexOf(':')), Number(frontend.addr.outbound.slice(frontend.addr.outbound.lastIndexOf(':') + 1))];
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host, port, method: 'POST', path: '/orders', headers: { host: 'orders', 'content-type': 'application/json' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    });
    expect(status).toBe(201);
    expect(seen.slice(before).map((s) => s.body.toString())).toEqual([body]);
  });

  it('reports shadow and zombie routes in `ztmesh inventory`, as metrics, and counts and logs the refusals', async () => {
    const { code, out, err } = await cli(['inventory', '--from', orders.addr.admin, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { apis: { method: string; route: string; declared: boolean }[]; zombies: { service: string; method: string; route: string }[] };
    const declared = Object.fromEntries(report.apis.map((a) => [`${a.method} ${a.route}`, a.declared]));
    expect(declared).toMatchObject({ 'POST /orders': true, 'GET /orders': true, 'GET /orders/{id}': true, 'DELETE /orders/{id}': false, 'GET /debug/vars': false });
    expect(report.zombies).toEqual([{ service: 'orders', method: 'PATCH', route: '/orders/{id}' }, { service: 'orders', method: 'GET', route: '/health' }]);
    const table = await cli(['inventory', '--from', orders.addr.admin]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/orders\s+DELETE\s+\/orders\/\{id\}.*shadow/);
    expect(table.out).toMatch(/zombie.*orders.*GET \/health/);

    const metrics = (await httpGet(orders.addr.admin, '/metrics')).body;
    expect(metricValue(metrics, 'ztmesh_inventory_shadow_routes{service="orders"}')).toBe(2);
    expect(metricValue(metrics, 'ztmesh_inventory_zombie_routes{service="orders"}')).toBe(2);
    expect(metricValue(metrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_VALIDATION_BODY_INVALID"}')).toBe(3);
    expect(metricValue(metrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_VALIDATION_UNDECLARED_ROUTE"}')).toBe(3);
    const line = await orders.proc.waitForLog((l) => l['code'] === 'ZTMESH_VALIDATION_QUERY_INVALID');
    expect(String(line.msg)).toContain('query does not fit the schema');
  });

  it('stops at start, naming the file and the path, when a schema does not compile', async () => {
    writeFileSync(join(dir, 'bad-api.yaml'), OPENAPI.replace('minLength: 1', 'minLength: one'));
    const ordersId = await writeIdentityFiles(ca, dir, 'orders2', ORDERS);
    const cfg = writeSidecarConfig(dir, TD, 'orders-bad', {
      workload: { namespace: 'shop', name: 'orders', labels: { app: 'orders' } },
      identity: ordersId,
      inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
      outbound: { listen: '127.0.0.1:0' },
      policyFile: join(dir, 'orders-policy.yaml'),
      requestValidation: { openapi: 'bad-api.yaml' },
    }, '1s');
    const failed = await startSidecar(cfg).then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(failed).toContain('ZTMESH_VALIDATION_BAD_SCHEMA');
    expect(failed).toContain('bad-api.yaml: components.schemas.NewOrder');
  });
});
