import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, counterValue, exchange, plainConnect, startPair, testAuthorizer, type Pair } from './fixtures/pki-pair.ts';

let app: Server;
let appPort: number;
let pair: Pair;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function echo(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = req.url ?? '';
    if (url === '/big') {
      const big = Buffer.alloc(1024 * 1024, 0x61);
      res.writeHead(200, { 'content-length': big.length });
      res.end(big);
      return;
    }
    if (url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part1-');
      setImmediate(() => res.end('part2'));
      return;
    }
    if (url === '/204') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url === '/304') {
      res.writeHead(304, { etag: '"x"' });
      res.end();
      return;
    }
    if (url === '/hash') {
      res.end(createHash('sha256').update(body).digest('hex'));
      return;
    }
    res.setHeader('content-type', 'application/json');
    const json = JSON.stringify({ method: req.method, url, headers: req.headers, bodyLength: body.length });
    // With a Content-Length, Node keeps an HTTP/1.0 keep-alive connection open (else it closes it).
    if (url.startsWith('/sized')) res.setHeader('content-length', Buffer.byteLength(json));
    res.end(json);
  });
}

beforeAll(async () => {
  app = createServer(echo);
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as { port: number }).port;
  pair = await startPair({ app: { host: '127.0.0.1', port: appPort } });
});

afterAll(async () => {
  agent.destroy();
  await pair.close();
  await new Promise<void>((r) => app.close(() => r()));
});

interface Res {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: Buffer;
}

function call(method: string, path: string, options: { body?: Buffer | string; headers?: Record<string, string>; host?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: pair.outbound.address.port, method, path, agent, headers: { host: options.host ?? 'orders', ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTP/1.1 through a sidecar pair', () => {
  it('forwards a GET with the verified peer identity and a request id, over keep-alive', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await call('GET', `/hello?i=${i}`, { headers: { 'x-ztmesh-peer-identity': 'spiffe://example.org/forged' } });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body.toString());
      expect(seen.url).toBe(`/hello?i=${i}`);
      expect(seen.headers['x-ztmesh-peer-identity']).toBe(CLIENT_ID);
      expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-/);
    }
  });

  it('keeps a valid client x-request-id', async () => {
    const res = await call('GET', '/', { headers: { 'x-request-id': 'abc-123' } });
    expect(JSON.parse(res.body.toString()).headers['x-request-id']).toBe('abc-123');
  });

  it('routes absolute-form targets and rewrites them to origin-form', async () => {
    const res = await exchange(plainConnect(pair.outbound.address.port), 'GET http://orders:80/abs?q=1 HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).toContain('"url":"/abs?q=1"');
  });

  it('normalizes the path so the app sees what the policy saw', async () => {
    const seen: string[] = [];
    pair.setAuthorizer(testAuthorizer((a) => (seen.push(a.path ?? ''), true)));
    const res = await exchange(plainConnect(pair.outbound.address.port), 'GET /public/../%61dmin//x HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
    pair.setAuthorizer(testAuthorizer(() => true));
    expect(seen).toEqual(['/admin/x']);
    expect(res).toContain('"url":"/admin/x"');
  });

  it('streams request and response bodies of 1 MiB intact', async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const res = await call('POST', '/hash', { body });
    expect(res.body.toString()).toBe(createHash('sha256').update(body).digest('hex'));
    const big = await call('GET', '/big');
    expect(big.body.length).toBe(1024 * 1024);
  });

  it('passes chunked bodies both ways', async () => {
    const raw = await exchange(
      plainConnect(pair.outbound.address.port),
      'POST /x HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\nGET /chunked HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n',
    );
    expect(raw).toContain('"bodyLength":11');
    expect(raw).toMatch(/transfer-encoding: chunked\r\n[\s\S]*part1-[\s\S]*part2\r\n0\r\n\r\n/i);
  });

  it('answers pipelined requests in order', async () => {
    const raw = await exchange(
      plainConnect(pair.outbound.address.port),
      'GET /one HTTP/1.1\r\nHost: orders\r\n\r\nGET /two HTTP/1.1\r\nHost: orders\r\n\r\nGET /three HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n',
    );
    const urls = [...raw.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(['/one', '/two', '/three']);
  });

  it('closes an HTTP/1.0 client connection after its response but keeps the upstream connections alive', async () => {
    let appConnections = 0;
    const count = (): void => {
      appConnections++;
    };
    app.on('connection', count);
    try {
      for (let i = 0; i < 3; i++) {
        const raw = await exchange(plainConnect(pair.outbound.address.port), `GET /sized?i=${i} HTTP/1.0\r\nHost: orders\r\n\r\n`);
        expect(raw).toMatch(/^HTTP\/1\.1 200 /);
        expect(raw).toMatch(/\r\nConnection: close\r\n/i);
        expect(raw).not.toMatch(/\r\nConnection: keep-alive\r\n/i);
        const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
        expect(seen.url).toBe(`/sized?i=${i}`);
        expect(seen.headers.connection).toBe('keep-alive');
      }
    } finally {
      app.off('connection', count);
    }
    // One new app connection at most (the pool may hold none yet); never one per request.
    expect(appConnections).toBeLessThanOrEqual(1);
  });

  it('handles HEAD, 204 and 304 without bodies on a kept-alive connection', async () => {
    const raw = await exchange(
      plainConnect(pair.outbound.address.port),
      'HEAD /big HTTP/1.1\r\nHost: orders\r\n\r\nGET /204 HTTP/1.1\r\nHost: orders\r\n\r\nGET /304 HTTP/1.1\r\nHost: orders\r\n\r\nGET /last HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n',
    );
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '204', '304', '200']);
    expect(raw).toContain('content-length: 1048576');
    expect(raw).toContain('"url":"/last"');
  });

  it('relays 100-continue', async () => {
    const socket = plainConnect(pair.outbound.address.port);
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      socket.on('data', (c: Buffer) => {
        got.push(c.toString());
        const all = got.join('');
        if (all.includes('100 Continue') && !all.includes('sent')) {
          got.push('sent');
          socket.write('hello');
        }
        if (all.includes('"bodyLength":5')) resolve();
      });
      socket.write('POST /c HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    });
    socket.destroy();
    expect(got.join('')).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
  });

  it('denies by policy with 403 JSON and counts it', async () => {
    pair.setAuthorizer(testAuthorizer((a) => a.path !== '/secret'));
    const res = await call('GET', '/secret');
    pair.setAuthorizer(testAuthorizer(() => true));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString()).error.code).toBe('ZTMESH_SIDECAR_DENIED');
    expect(counterValue(pair.inboundMetrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_SIDECAR_DENIED"}')).toBeGreaterThan(0);
  });

  it('denies everything while no policy is loaded (fail closed)', async () => {
    pair.setAuthorizer(undefined);
    const res = await call('GET', '/');
    pair.setAuthorizer(testAuthorizer(() => true));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString()).error.code).toBe('ZTMESH_SIDECAR_NO_POLICY');
  });

  it('answers an unknown authority with 503 ZTMESH_SIDECAR_NO_ROUTE', async () => {
    const res = await call('GET', '/', { host: 'nowhere' });
    expect(res.status).toBe(503);
    const err = JSON.parse(res.body.toString()).error;
    expect(err.code).toBe('ZTMESH_SIDECAR_NO_ROUTE');
    expect(err.requestId).toBeTypeOf('string');
  });
});
