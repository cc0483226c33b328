import { connect as h2connect, createServer as createH2Server, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, startPair, testAuthorizer, type Pair } from './fixtures/pki-pair.ts';
import type { SpiffeId } from '../core/spiffe/spiffe-id.ts';

const identity = (b: Buffer): Buffer => b;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const echoService = { echo: method('Echo', false, false), chat: method('Chat', true, true), slow: method('Slow', false, false) };
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

let h2app: Http2Server;
let grpcServer: grpc.Server;
let h2pair: Pair;
let grpcPair: Pair;
let cancelledChats = 0;
let lastGrpcTimeout: string | undefined;

beforeAll(async () => {
  h2app = createH2Server();
  h2app.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
      stream.end(JSON.stringify({ path: headers[':path'], peer: headers['x-ztmesh-peer-identity'], body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => h2app.listen(0, '127.0.0.1', r));
  h2pair = await startPair({ app: { host: '127.0.0.1', port: (h2app.address() as { port: number }).port } });

  grpcServer = new grpc.Server();
  grpcServer.addService(echoService, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-peer', String(call.metadata.get('x-ztmesh-peer-identity')[0] ?? ''));
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), md);
    },
    chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), m])));
      call.on('end', () => call.end());
      call.on('cancelled', () => cancelledChats++);
    },
    slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
      lastGrpcTimeout = String(call.metadata.get('grpc-timeout')[0] ?? call.getDeadline());
      // never answers: the caller's deadline must end it
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  grpcPair = await startPair({ app: { host: '127.0.0.1', port } }, h2pair.pki);
});

afterAll(async () => {
  await h2pair.close();
  await grpcPair.close();
  grpcServer.forceShutdown();
  await new Promise<void>((r) => h2app.close(() => r()));
});

function grpcClient(authority = 'orders'): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  return new EchoClient(`127.0.0.1:${grpcPair.outbound.address.port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': authority,
  }) as unknown as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

function unary(client: ReturnType<typeof grpcClient>, name: string, body: string, deadlineMs = 5000): Promise<{ err: grpc.ServiceError | null; value?: Buffer; trailers?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | undefined;
    const call = client[name]!(Buffer.from(body), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, value?: Buffer) => {
      setImmediate(() => resolve({ err, value, trailers }));
    }) as grpc.ClientUnaryCall;
    call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
  });
}

describe('HTTP/2 and gRPC through the sidecar pair', () => {
  it('h2c -> h2 (mTLS) -> h2c with body, peer identity and trailers', async () => {
    const session = h2connect(`http://127.0.0.1:${h2pair.outbound.address.port}`);
    session.on('error', () => undefined);
    const req = session.request({ ':method': 'POST', ':path': '/a/../b?x=1', ':authority': 'orders', 'x-ztmesh-peer-identity': 'forged' });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    let body = '';
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.end('payload');
    await new Promise((r) => req.on('end', r));
    session.close();
    expect(headers[':status']).toBe(200);
    expect(JSON.parse(body)).toEqual({ path: '/b?x=1', peer: CLIENT_ID, body: 'payload' });
    expect(trailers['x-trailer']).toBe('done');
  });

  it('gRPC unary with response metadata in trailers', async () => {
    const client = grpcClient();
    const res = await unary(client, 'echo', 'hi');
    client.close();
    expect(res.err).toBeNull();
    expect(res.value!.toString()).toBe('echo:hi');
    expect(res.trailers!.get('x-peer')).toEqual([CLIENT_ID]);
  });

  it('gRPC bidirectional streaming, and cancellation reaches the server as RST_STREAM', async () => {
    const client = grpcClient();
    const call = client['chat']!() as grpc.ClientDuplexStream<Buffer, Buffer>;
    const got: string[] = [];
    const done = new Promise<void>((resolve) => call.on('end', resolve));
    call.on('data', (m: Buffer) => got.push(m.toString()));
    call.on('error', () => undefined);
    for (const m of ['a', 'b', 'c']) call.write(Buffer.from(m));
    call.end();
    await done;
    expect(got).toEqual(['re:a', 're:b', 're:c']);

    const before = cancelledChats;
    const second = client['chat']!() as grpc.ClientDuplexStream<Buffer, Buffer>;
    second.on('error', () => undefined);
    second.write(Buffer.from('x'));
    await new Promise((r) => second.once('data', r));
    second.cancel();
    const deadline = Date.now() + 3000;
    while (cancelledChats === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    client.close();
    expect(cancelledChats).toBe(before + 1);
  });

  it('gRPC deadlines pass through as grpc-timeout and end a stalled call promptly', async () => {
    const client = grpcClient();
    const t0 = Date.now();
    const res = await unary(client, 'slow', 'x', 400);
    client.close();
    expect(res.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(lastGrpcTimeout).toBeDefined();
  });

  it('a policy denial is PERMISSION_DENIED with the sidecar code', async () => {
    grpcPair.setAuthorizer(testAuthorizer((a) => a.path !== '/test.Echo/Echo'));
    const client = grpcClient();
    const res = await unary(client, 'echo', 'hi');
    client.close();
    grpcPair.setAuthorizer(testAuthorizer(() => true));
    expect(res.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(res.err?.metadata.get('x-ztmesh-error')).toEqual(['ZTMESH_SIDECAR_DENIED']);
  });

  it('a destination sidecar with the wrong identity is refused (502, gRPC UNAVAILABLE)', async () => {
    const wrong = await startPair(
      { app: { host: '127.0.0.1', port: (h2app.address() as { port: number }).port }, expectIdentity: 'spiffe://example.org/ns/shop/sa/payments' as SpiffeId },
      h2pair.pki,
    );
    try {
      const session = h2connect(`http://127.0.0.1:${wrong.outbound.address.port}`);
      session.on('error', () => undefined);
      const req = session.request({ ':path': '/', ':authority': 'orders' });
      let status: unknown;
      let body = '';
      req.on('response', (h) => (status = h[':status']));
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.end();
      await new Promise((r) => req.on('end', r));
      session.close();
      expect(status).toBe(502);
      expect(JSON.parse(body).error.code).toBe('ZTMESH_SIDECAR_WRONG_PEER_IDENTITY');
    } finally {
      await wrong.close();
    }
  });

  it('an unknown authority is UNAVAILABLE', async () => {
    const client = grpcClient('nowhere');
    const res = await unary(client, 'echo', 'hi');
    client.close();
    expect(res.err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(res.err?.metadata.get('x-ztmesh-error')).toEqual(['ZTMESH_SIDECAR_NO_ROUTE']);
  });
});
