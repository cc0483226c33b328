import { createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { requestIds } from '../http1/request-id.ts';
import { PeerConnector } from '../outbound/peer-connector.ts';
import { authorityHost, lookupService } from '../outbound/service-table.ts';
import { OutboundH2Request } from './outbound-h2-request.ts';
import { isGrpc, respondH2Refusal } from './h2-error-response.ts';
import { forwardH2Headers, headerValue, parseHeaderLines, validRequestId } from './h2-headers.ts';
import { H2SessionPool } from './h2-session-pool.ts';
import { EndpointPicker } from '../balance/endpoint-picker.ts';
import { EndpointState } from '../balance/endpoint-state.ts';
import { formatHostPort } from '../config/host-port.ts';
import { relayH2 } from './h2-relay.ts';

/**
 * An HTTP/2 service: its target and one multiplexed mTLS session pool per endpoint. Each stream
 * picks an endpoint (P2C by open streams, or round-robin), so one client connection's streams
 * spread over every endpoint.
 */
class H2Service {
  readonly target: ServiceTarget;
  readonly pools: readonly H2SessionPool[];
  readonly states: readonly EndpointState[];
  readonly #picker: EndpointPicker;
  constructor(target: ServiceTarget, pools: readonly H2SessionPool[]) {
    this.target = target;
    this.pools = pools;
    this.states = target.endpoints.map((e) => new EndpointState(formatHostPort(e)));
    this.#picker = new EndpointPicker(target.balancer ?? 'p2c-ewma');
  }
  /** The endpoint index for a new stream, -1 when none is in rotation. */
  pick(): number {
    return this.#picker.pick(this.states, Date.now(), null);
  }
}

export interface H2OutboundOptions {
  readonly services: ReadonlyMap<string, ServiceTarget>;
  readonly credentials: CredentialsRef;
  readonly trustDomains: ReadonlySet<string>;
  readonly observer: RequestObserver;
  readonly refusals: RefusalLog;
  readonly maxConcurrentStreams: number;
}

/**
 * Outbound h2c (prior knowledge, e.g. gRPC) from the local app: each stream routed by :authority
 * to a service and relayed over one long-lived mTLS HTTP/2 session per destination sidecar, whose
 * SPIFFE ID must be exactly the configured one.
 */
export class H2Outbound {
  readonly server: Http2Server;
  readonly sessions = new Set<Http2Session>();
  readonly #services = new Map<string, H2Service>();
  readonly #o: H2OutboundOptions;

  constructor(o: H2OutboundOptions) {
    this.#o = o;
    for (const [name, target] of o.services) {
      if (target.protocol !== 'http') continue;
      const pools = target.endpoints.map((endpoint) => {
        const connector = new PeerConnector(endpoint, target.identity, o.credentials, o.trustDomains, 'h2');
        return new H2SessionPool(`service ${name}`, `https://${endpoint.host}:${endpoint.port}`, () => connector.connect());
      });
      this.#services.set(name, new H2Service(target, pools));
    }
    this.server = createServer({ settings: { maxConcurrentStreams: o.maxConcurrentStreams } });
    this.server.on('session', (session: Http2Session) => {
      session.on('error', () => undefined);
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
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
    const service = lookupService(this.#services, host);
    if (service === undefined) return refuse(refusal(503, 'ZTMESH_SIDECAR_NO_ROUTE', `no service is configured for ${JSON.stringify(host.slice(0, 100))}`));
    const path = headerValue(headers, ':path') ?? '/';
    const q = path.indexOf('?');
    const scope = o.observer.start(new OutboundH2Request(headers, q === -1 ? path : path.slice(0, q), o.credentials.current?.identity, service.target, stream.session?.socket?.remoteAddress ?? ''));
    const i = service.pick();
    if (i === -1) {
      scope.end({ status: 503, errorCode: 'ZTMESH_BALANCE_NO_ENDPOINTS', requestBytes: 0, responseBytes: 0 });
      return refuse(refusal(503, 'ZTMESH_BALANCE_NO_ENDPOINTS', `service ${service.target.name} has no endpoint in rotation`));
    }
    let pooled;
    try {
      pooled = service.pools[i]!.get();
    } catch (err) {
      scope.end({ status: 503, errorCode: 'ZTMESH_SIDECAR_NO_CREDENTIALS', requestBytes: 0, responseBytes: 0 });
      return refuse(refusal(503, 'ZTMESH_SIDECAR_NO_CREDENTIALS', `cannot connect to ${service.target.name}: ${String(err)}`));
    }
    const forward = forwardH2Headers(headers, { stripTracing: true, add: { ...parseHeaderLines(scope.forwardHeaders), 'x-request-id': requestId } });
    const state = service.states[i]!;
    state.begin(Date.now());
    stream.once('close', () => state.end(true, Date.now()));
    relayH2(stream, pooled, forward, { name: `service ${service.target.name}`, grpc, requestId, refusals: o.refusals, scope });
  }

  drain(): void {
    for (const session of this.sessions) session.close();
  }

  close(): void {
    for (const session of this.sessions) session.destroy();
    for (const service of this.#services.values()) for (const pool of service.pools) pool.close();
    this.server.close();
  }
}
