import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { normalizePath, type PathNormalizationMode } from '../../core/http/normalize-path.ts';
import type { RequestObserver, RequestScope } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { PeerInfo } from '../tls/peer-info.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { ClientConnection } from '../pool/client-connections.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { requestIds } from '../http1/request-id.ts';
import { InboundRequest } from '../inbound/inbound-request.ts';
import type { InboundGate } from '../inbound/inbound-gate.ts';
import { isGrpc, respondH2Refusal } from './h2-error-response.ts';
import { forwardH2Headers, headerValue, parseHeaderLines, validRequestId } from './h2-headers.ts';
import { H2HeaderSource } from './h2-header-source.ts';
import { H2SessionPool } from './h2-session-pool.ts';
import { relayH2 } from './h2-relay.ts';
import type { RequestValidator } from '../validation/request-validator.ts';
import { validateH2Request } from '../validation/h2-request-validation.ts';

export interface H2InboundOptions {
  readonly appAuthority: string;
  readonly appPort: number;
  /** End-user JWT, authorization, rate limit: the same gate as HTTP/1.1. */
  readonly gate: InboundGate;
  readonly observer: RequestObserver;
  readonly credentials: CredentialsRef;
  readonly refusals: RefusalLog;
  readonly pathNormalization: PathNormalizationMode;
  readonly maxConcurrentStreams: number;
  readonly maxHeaderBytes: number;
  /** Request validation (sidecar/validation), after authorization; absent: none. */
  readonly validator?: RequestValidator | undefined;
  /** The request body limit of a normalized path (bounds bodies buffered for validation). */
  readonly maxBodyBytes?: ((path: string) => number) | undefined;
}

/** An inbound HTTP/2 connection as the server's connection set tracks it. */
class H2ClientConnection implements ClientConnection {
  readonly socket: TLSSocket;
  readonly peer: PeerInfo;
  session: Http2Session | undefined = undefined;
  /** notice() sent its GOAWAY. */
  #noticed = false;
  constructor(socket: TLSSocket, peer: PeerInfo) {
    this.socket = socket;
    this.peer = peer;
  }
  /**
   * A GOAWAY naming the highest stream id: the peer opens no new stream here, and streams already
   * on the wire are still served (none refused, no unread bytes to reset the connection); drain()
   * later closes once the open streams finish (RFC 9113 6.8's graceful shutdown).
   */
  notice(): void {
    const session = this.session;
    if (this.#noticed || session === undefined || session.closed || session.destroyed) return;
    this.#noticed = true;
    session.goaway(constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
  }
  drain(): void {
    // GOAWAY: no new streams; open ones finish.
    this.session?.close();
  }
}

/**
 * Inbound HTTP/2 (and gRPC) over mTLS: each stream passes the same gate (end-user JWT,
 * authorization, rate limit) with the same request attributes as HTTP/1.1 (normalized path,
 * verified peer), then is relayed to the app over one multiplexed h2c session.
 */
export class H2Inbound {
  readonly server: Http2Server;
  readonly app: H2SessionPool;
  readonly #o: H2InboundOptions;
  readonly #peers = new WeakMap<Http2Session, PeerInfo>();
  #accepting: H2ClientConnection | undefined = undefined;

  constructor(o: H2InboundOptions) {
    this.#o = o;
    this.app = new H2SessionPool('app', `http://${o.appAuthority}`);
    this.server = createServer({ settings: { maxConcurrentStreams: o.maxConcurrentStreams }, maxSendHeaderBlockLength: o.maxHeaderBytes });
    this.server.on('session', (session: Http2Session) => {
      const conn = this.#accepting;
      if (conn === undefined) return;
      conn.session = session;
      this.#peers.set(session, conn.peer);
      session.on('error', () => undefined);
    });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
  }

  /** Takes over a verified mTLS connection that negotiated ALPN h2. */
  accept(socket: TLSSocket, peer: PeerInfo): ClientConnection {
    const conn = new H2ClientConnection(socket, peer);
    this.#accepting = conn;
    this.server.emit('connection', socket);
    this.#accepting = undefined;
    return conn;
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const o = this.#o;
    const grpc = isGrpc(headers);
    const requestId = validRequestId(headers) ?? requestIds.next();
    const peer = this.#peers.get(stream.session!);
    const refuse = (r: Refusal): void => {
      o.refusals.record(r.code, r.message, { requestId, peer: peer?.id, protocol: 'h2' });
      respondH2Refusal(stream, grpc, r, requestId);
    };
    if (peer === undefined) return refuse(refusal(403, 'ZTMESH_SIDECAR_DENIED', 'no verified peer for this HTTP/2 session'));
    const method = headerValue(headers, ':method') ?? '';
    const rawPath = headerValue(headers, ':path') ?? '';
    if (method === 'CONNECT') return refuse(refusal(400, 'ZTMESH_SIDECAR_BAD_TARGET', 'CONNECT is not supported'));
    const norm = normalizePath(rawPath, o.pathNormalization);
    if (!norm.ok) return refuse(refusal(400, norm.code, norm.reason));
    const req = new InboundRequest(peer.id, o.credentials.current?.identity, stream.session?.socket?.remoteAddress ?? '', o.appPort, method, norm.path, new H2HeaderSource(headers));
    if (o.gate.needsAuthn(req)) {
      // Only streams carrying a token pay for a promise; the stream's data waits in its buffer.
      void o.gate.authenticateAndAdmit(req).then((refused) => this.#admitted(stream, req, refused, grpc, requestId, norm.target, peer.id, headers, refuse));
      return;
    }
    this.#admitted(stream, req, o.gate.admit(req), grpc, requestId, norm.target, peer.id, headers, refuse);
  }

  #admitted(
    stream: ServerHttp2Stream,
    req: InboundRequest,
    refused: Refusal | undefined,
    grpc: boolean,
    requestId: string,
    target: string,
    peer: string,
    headers: IncomingHttpHeaders,
    refuse: (r: Refusal) => void,
  ): void {
    const o = this.#o;
    const scope = o.observer.start(req);
    if (refused !== undefined) {
      scope.end({ status: refused.status, errorCode: refused.code, requestBytes: 0, responseBytes: 0 });
      return refuse(refused);
    }
    if (stream.destroyed || stream.closed) {
      scope.end({ status: 0, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
      return;
    }
    const validator = o.validator;
    if (validator !== undefined) {
      validateH2Request(stream, validator, req, target, headers, o.maxBodyBytes?.(req.path) ?? Number.MAX_SAFE_INTEGER, {
        pass: (body) => this.#forward(stream, req, scope, grpc, requestId, target, peer, headers, refuse, body),
        refuse: (r) => {
          scope.end({ status: r.status, errorCode: r.code, requestBytes: 0, responseBytes: 0 });
          refuse(r);
        },
        gone: () => scope.end({ status: 0, errorCode: undefined, requestBytes: 0, responseBytes: 0 }),
      });
      return;
    }
    this.#forward(stream, req, scope, grpc, requestId, target, peer, headers, refuse, undefined);
  }

  #forward(
    stream: ServerHttp2Stream,
    req: InboundRequest,
    scope: RequestScope,
    grpc: boolean,
    requestId: string,
    target: string,
    peer: string,
    headers: IncomingHttpHeaders,
    refuse: (r: Refusal) => void,
    body: Buffer | undefined,
  ): void {
    const o = this.#o;
    const strip = req.claims === undefined ? undefined : o.gate.authn?.headersToStrip(req);
    const forward = forwardH2Headers(headers, {
      path: target,
      stripTracing: true,
      ...(strip !== undefined && strip.length > 0 ? { strip } : {}),
      add: { ...parseHeaderLines(scope.forwardHeaders), 'x-ztmesh-peer-identity': peer, 'x-request-id': requestId },
    });
    let pooled;
    try {
      pooled = this.app.get();
    } catch (err) {
      scope.end({ status: 503, errorCode: 'ZTMESH_SIDECAR_UPSTREAM_REFUSED', requestBytes: 0, responseBytes: 0 });
      return refuse(refusal(503, 'ZTMESH_SIDECAR_UPSTREAM_REFUSED', `app is unreachable (${String(err)})`));
    }
    relayH2(stream, pooled, forward, { name: 'app', grpc, requestId, refusals: o.refusals, scope, ...(body !== undefined ? { body } : {}) });
  }

  close(): void {
    this.app.close();
    this.server.close();
  }
}
