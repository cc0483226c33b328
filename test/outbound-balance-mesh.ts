import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session, type Http2Server, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import type { SpiffeId } from '../core/spiffe/spiffe-id.ts';
import { noopObserver } from '../sidecar/telemetry/request-observer.ts';
import { CredentialsRef } from '../sidecar/tls/credentials.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import { DEFAULT_HTTP1_LIMITS } from '../sidecar/http1/limits.ts';
import { startInbound, type ProxyServer } from '../sidecar/inbound/inbound-server.ts';
import { startOutbound, type OutboundServer, type ServiceTarget } from '../sidecar/outbound/outbound-server.ts';
import type { HostPort } from '../sidecar/config/host-port.ts';
import { TestPki } from './fixtures/pki-mesh.ts';
import { testAuthorizer, TD, SERVER_ID } from './fixtures/pki-pair.ts';

/** One destination "pod": an app that answers with its name, behind its own inbound sidecar. */
export class Backend {
  readonly name: string;
  readonly app: Server | Http2Server;
  readonly inbound: ProxyServer;
  readonly metrics: Registry;
  /** Requests the app received, and those it is answering right now. */
  received = 0;
  inFlight = 0;
  delayMs: number;
  /** The status the app answers with (HTTP/1.1 and h2). */
  status = 200;
  /** Answer this many more requests with 503 before `status` applies. */
  failNext = 0;

  constructor(name: string, app: Server | Http2Server, inbound: ProxyServer, metrics: Registry, delayMs: number) {
    this.name = name;
    this.metrics = metrics;
    this.app = app;
    this.inbound = inbound;
    this.delayMs = delayMs;
  }

  get address(): HostPort {
    return this.inbound.address;
  }

  async stop(): Promise<void> {
    await this.inbound.close();
    if ('closeAllConnections' in this.app) this.app.closeAllConnections();
    await new Promise<void>((r) => this.app.close(() => r()));
  }
}

/** A client sidecar (outbound only) and destination backends, each with real mTLS, all in-process. */
export class BalanceMesh {
  readonly pki: TestPki;
  readonly clientCreds: CredentialsRef;
  readonly metrics = new Registry();
  readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  outbound!: OutboundServer;
  readonly backends: Backend[] = [];

  constructor(pki: TestPki, clientCreds: CredentialsRef) {
    this.pki = pki;
    this.clientCreds = clientCreds;
  }

  static async create(): Promise<BalanceMesh> {
    const pki = await TestPki.create(TD);
    const client = await pki.svid('shop', 'frontend');
    const creds = new CredentialsRef();
    creds.swap(buildCredentials({ certChainPem: client.certChainPem, privateKey: client.keyPem, bundlePem: pki.bundlePem, trustDomain: TD }));
    return new BalanceMesh(pki, creds);
  }

  /** Starts an app + inbound sidecar whose SVID is `spiffe://example.org/ns/shop/sa/<sa>`. */
  async backend(name: string, options: { delayMs?: number; sa?: string; tcpPorts?: readonly number[]; h2?: boolean } = {}): Promise<Backend> {
    const leaf = await this.pki.svid('shop', options.sa ?? 'orders');
    const creds = new CredentialsRef();
    creds.swap(buildCredentials({ certChainPem: leaf.certChainPem, privateKey: leaf.keyPem, bundlePem: this.pki.bundlePem, trustDomain: TD }));
    let backend: Backend | undefined;
    const h2 = options.h2 === true;
    const app: Server | Http2Server = h2 ? createH2Server() : createServer();
    const onStream = (stream: ServerHttp2Stream): void => {
      const b = backend!;
      b.received++;
      stream.on('error', () => undefined);
      stream.resume();
      const answer = (): void => {
        if (stream.destroyed || stream.closed) return;
        const status = b.failNext > 0 ? (b.failNext--, 503) : b.status;
        stream.respond({ ':status': status, 'content-type': 'text/plain' });
        stream.end(name);
      };
      stream.on('end', () => (b.delayMs > 0 ? setTimeout(answer, b.delayMs) : answer()));
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const b = backend!;
      b.received++;
      b.inFlight++;
      const answer = (): void => {
        b.inFlight--;
        res.statusCode = b.failNext > 0 ? (b.failNext--, 503) : b.status;
        res.setHeader('content-type', 'text/plain');
        res.end(name);
      };
      req.resume();
      req.on('end', () => (b.delayMs > 0 ? setTimeout(answer, b.delayMs) : answer()));
    };
    if (h2) app.on('stream', onStream);
    else app.on('request', onRequest);
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const authorizer = testAuthorizer(() => true);
    const metrics = new Registry();
    const inbound = await startInbound({
      listen: { host: '127.0.0.1', port: 0 },
      app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
      tcpPorts: new Set(options.tcpPorts ?? []),
      credentials: creds,
      trustDomains: new Set([TD]),
      authorizer: () => authorizer,
      peerAllowed: () => undefined,
      limits: DEFAULT_HTTP1_LIMITS,
      observer: noopObserver,
      metrics,
      logger: silentLogger(),
    });
    backend = new Backend(name, app, inbound, metrics, options.delayMs ?? 0);
    this.backends.push(backend);
    return backend;
  }

  async startOutbound(endpoints: readonly HostPort[], balancer: ServiceTarget['balancer'] = 'p2c-ewma', extra: readonly ServiceTarget[] = [], policy: Partial<ServiceTarget> = {}): Promise<void> {
    const services = new Map<string, ServiceTarget>([['orders', { ...this.target(endpoints, balancer), ...policy }]]);
    for (const t of extra) services.set(t.name, t);
    this.outbound = await startOutbound({
      listen: { host: '127.0.0.1', port: 0 },
      services,
      credentials: this.clientCreds,
      trustDomains: new Set([TD]),
      limits: DEFAULT_HTTP1_LIMITS,
      observer: noopObserver,
      metrics: this.metrics,
      logger: silentLogger(),
    });
  }

  target(endpoints: readonly HostPort[], balancer: ServiceTarget['balancer'] = 'p2c-ewma'): ServiceTarget {
    return { name: 'orders', identity: SERVER_ID as SpiffeId, endpoints, protocol: 'http', balancer };
  }

  /** One GET (or POST with `body`) through the client sidecar: status, body, and the error code header. */
  request(body?: string, method?: string): Promise<{ status: number; body: string; code: string | undefined }> {
    return new Promise((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.outbound.address.port,
          method: method ?? (body === undefined ? 'GET' : 'POST'),
          path: '/orders',
          headers: { host: 'orders' },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let code: string | undefined;
            if (res.statusCode! >= 400) {
              try {
                code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
              } catch {
                code = undefined;
              }
            }
            resolve({ status: res.statusCode!, body: text, code });
          });
        },
      );
      req.on('error', (err) => resolve({ status: 0, body: err.message, code: undefined }));
      req.end(body);
    });
  }

  /** `total` requests with `concurrency` in flight; `onEach(i)` runs before request i is sent. */
  async load(total: number, concurrency: number, onEach?: (i: number) => Promise<void> | void): Promise<{ status: number; body: string; code: string | undefined }[]> {
    const results: { status: number; body: string; code: string | undefined }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        if (onEach !== undefined) await onEach(i);
        results[i] = await this.request();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return results;
  }

  /** One h2 stream through the client sidecar on `client` (gRPC-shaped POST with `grpc`): status, body, error code. */
  h2Request(client: ClientHttp2Session, options: { grpc?: boolean; method?: string } = {}): Promise<{ status: number; body: string; code: string | undefined }> {
    return new Promise((resolve) => {
      const grpc = options.grpc === true;
      const headers: OutgoingHttpHeaders = { ':method': options.method ?? (grpc ? 'POST' : 'GET'), ':path': grpc ? '/shop.Orders/Get' : '/orders', ':authority': 'orders' };
      if (grpc) Object.assign(headers, { 'content-type': 'application/grpc', te: 'trailers' });
      const req = client.request(headers, { endStream: !grpc });
      let status = 0;
      let code: string | undefined;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        status = Number(h[':status']);
        code = typeof h['x-ztmesh-error'] === 'string' ? h['x-ztmesh-error'] : undefined;
      });
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (code === undefined && status >= 400) {
          try {
            code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
        }
        resolve({ status, body, code });
      });
      req.on('error', (err: Error) => resolve({ status: 0, body: err.message, code: undefined }));
      if (grpc) req.end(Buffer.from([0, 0, 0, 0, 2, 8, 1])); // one length-prefixed message
    });
  }

  /** `total` h2 streams over one client connection with `concurrency` in flight; `onEach(i)` runs before stream i. */
  async h2Load(total: number, concurrency: number, options: { grpc?: boolean; onEach?: (i: number) => Promise<void> | void } = {}): Promise<{ status: number; body: string; code: string | undefined }[]> {
    const client = h2connect(`http://127.0.0.1:${this.outbound.address.port}`);
    client.on('error', () => undefined);
    const results: { status: number; body: string; code: string | undefined }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        if (options.onEach !== undefined) await options.onEach(i);
        results[i] = await this.h2Request(client, options);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    client.close();
    return results;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.outbound?.close();
    await Promise.all(this.backends.map((b) => b.stop()));
  }
}

/** How many responses each backend name produced. */
export function distribution(results: readonly { status: number; body: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) if (r.status === 200) out[r.body] = (out[r.body] ?? 0) + 1;
  return out;
}
