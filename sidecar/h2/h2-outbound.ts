import { createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import type { CoarseTimers } from '../pool/coarse-timers.ts';
import type { EndpointMetrics } from '../balance/endpoint-metrics.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { requestIds } from '../http1/request-id.ts';
import { authorityHost, authorityPort, lookupService } from '../outbound/service-table.ts';
import { OutboundH2Request } from './outbound-h2-request.ts';
import { isGrpc, respondH2Refusal } from './h2-error-response.ts';
import { forwardH2Headers, headerValue, parseHeaderLines, validRequestId } from './h2-headers.ts';
import { H2BalancedService } from './h2-balanced-service.ts';
import { BalancedH2Stream } from './h2-balanced-stream.ts';

export interface H2OutboundOptions {
  readonly services: ReadonlyMap<string, ServiceTarget>;
  readonly credentials: CredentialsRef;
  readonly trustDomains: ReadonlySet<string>;
  readonly observer: RequestObserver;
  readonly refusals: RefusalLog;
  readonly maxConcurrentStreams: number;
  readonly timers: CoarseTimers;
  readonly metrics: EndpointMetrics;
  readonly logger: Logger;
}

/**
 * Outbound h2c (prior knowledge, e.g. gRPC) from the local app: each stream routed by :authority
 * to a service, then balanced per stream over the service's endpoints (P2C over peak-EWMA
 * latency, ejection, failover and retries: BalancedH2Stream), each endpoint one long-lived mTLS
 * HTTP/2 session to a destination sidecar whose SPIFFE ID must be exactly the configured one.
 */
export class H2Outbound {
  readonly server: Http2Server;
  readonly sessions = new Set<Http2Session>();
  readonly #services = new Map<string, H2BalancedService>();
  readonly #o: H2OutboundOptions;

  constructor(o: H2OutboundOptions) {
    this.#o = o;
    for (const target of o.services.values()) if (target.protocol === 'http') this.update(target);
    this.server = createServer({ settings: { maxConcurrentStreams: o.maxConcurrentStreams } });
    this.server.on('session', (session: Http2Session) => {
      session.on('error', () => undefined);
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
  }

  /** Adds an HTTP service or replaces its target: endpoints still present keep their sessions. */
  update(target: ServiceTarget): void {
    const o = this.#o;
    const existing = this.#services.get(target.name);
    if (existing !== undefined && (existing.target.balancer ?? 'p2c-ewma') === (target.balancer ?? 'p2c-ewma')) {
      existing.update(target);
      return;
    }
    existing?.update({ ...existing.target, endpoints: [] }); // its sessions drain
    this.#services.set(target.name, new H2BalancedService(target, { credentials: o.credentials, trustDomains: o.trustDomains, metrics: o.metrics, logger: o.logger }));
  }

  /** The service's balancer view, for tests and the admin view. */
  service(name: string): H2BalancedService | undefined {
    return this.#services.get(name);
  }

  /** Takes over a plaintext connection that began with the HTTP/2 preface. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const o = this.#o;
    const grpc = isGrpc(headers);
    const requestId = validRequestId(headers) ?? requestIds.next();
    const refuse = (r: Refusal): void => {
      o.refusals.record(r.code, r.message, { requestId, protocol: 'h2' });
      respondH2Refusal(stream, grpc, r, requestId);
    };
    const authority = headerValue(headers, ':authority') ?? headerValue(headers, 'host');
    if (authority === undefined) return refuse(refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'request names no :authority'));
    const host = authorityHost(authority);
    const service = lookupService(this.#services, host, authorityPort(authority));
    if (service === undefined) return refuse(refusal(503, 'ZTMESH_SIDECAR_NO_ROUTE', `no service is configured for ${JSON.stringify(host.slice(0, 100))}`));
    const path = headerValue(headers, ':path') ?? '/';
    const q = path.indexOf('?');
    const scope = o.observer.start(new OutboundH2Request(headers, q === -1 ? path : path.slice(0, q), o.credentials.current?.identity, service.target, stream.session?.socket?.remoteAddress ?? ''));
    const forward = forwardH2Headers(headers, { stripTracing: true, add: { ...parseHeaderLines(scope.forwardHeaders), 'x-request-id': requestId } });
    const method = headerValue(headers, ':method') ?? 'GET';
    new BalancedH2Stream(stream, service, forward, { grpc, requestId, method, path, refusals: o.refusals, scope, timers: o.timers }).start();
  }

  drain(): void {
    for (const session of this.sessions) session.close();
  }

  close(): void {
    for (const session of this.sessions) session.destroy();
    for (const service of this.#services.values()) service.close();
    this.server.close();
  }
}
