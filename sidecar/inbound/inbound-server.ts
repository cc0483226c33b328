import type { CallerMeasures } from './caller-guard.ts';
import { createServer, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Authorizer } from '../../core/policy/decision.ts';
import type { PathNormalizationMode } from '../../core/http/normalize-path.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Registry } from '../../core/telemetry/metrics.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { PeerInfo } from '../tls/peer-info.ts';
import type { Http1Limits } from '../http1/limits.ts';
import type { HostPort, ProxyServer } from './proxy-server.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { TLS_VERSIONS } from '../tls/build-credentials.ts';
import { verifyPeerSvid } from '../tls/verify-svid.ts';
import { handshakeFailureReason } from '../tls/handshake-failure-reason.ts';
import { DataPlaneMetrics } from '../errors/dataplane-metrics.ts';
import { RefusalLog } from '../errors/refusal-log.ts';
import { CoarseTimers } from '../pool/coarse-timers.ts';
import { UpstreamPool } from '../pool/upstream-pool.ts';
import { PlainConnector } from '../pool/plain-connector.ts';
import { ClientConnections } from '../pool/client-connections.ts';
import { Http1Context } from '../http1/http1-context.ts';
import { Http1Connection } from '../http1/http1-connection.ts';
import { TcpInboundConnection, type TcpInboundContext } from '../tcp/tcp-inbound-connection.ts';
import { InboundRouter } from './inbound-router.ts';
import { InboundGate } from './inbound-gate.ts';
import type { InboundAuthn } from './inbound-authn.ts';
import { InboundRateLimit } from './inbound-rate-limit.ts';
import { BodyLimits, type BodyLimit } from './body-limits.ts';
import type { RateLimitConfig } from '../../core/policy/rate-limit-config.ts';
import { compileIpList } from '../../core/policy/cidr.ts';
import { H2Inbound } from '../h2/h2-inbound.ts';
import type { ClientConnection } from '../pool/client-connections.ts';
import { InboundRequest } from './inbound-request.ts';
import { listenOn, closeServer } from './listen.ts';
import type { RequestValidator } from '../validation/request-validator.ts';

export type { HostPort, ProxyServer } from './proxy-server.ts';

export interface InboundParams {
  readonly listen: HostPort;
  readonly app: HostPort;
  readonly tcpPorts: ReadonlySet<number>;
  /** current === undefined (or expired): new connections are refused (fail closed, not ready). */
  readonly credentials: CredentialsRef;
  readonly trustDomains: ReadonlySet<string>;
  /** undefined (no valid policy): every request is denied with ZTMESH_SIDECAR_NO_POLICY. */
  readonly authorizer: () => Authorizer | undefined;
  /** Deny list: a reason to refuse the peer, or undefined. */
  readonly peerAllowed: (peer: { id: SpiffeId; serial: string }) => string | undefined;
  readonly limits: Http1Limits;
  readonly observer: RequestObserver;
  readonly metrics: Registry;
  readonly logger: Logger;
  /** Path normalization mode (default 'strict'). */
  readonly pathNormalization?: PathNormalizationMode;
  /** End-user JWT authentication (RequestAuthentication); absent: tokens are not examined. */
  readonly authn?: InboundAuthn | undefined;
  /** The current mesh config's rate limits (read per request; a new object rebuilds the buckets); absent: no limit. */
  readonly rateLimit?: (() => RateLimitConfig | undefined) | undefined;
  /** Source CIDRs allowed to connect at all (checked at accept, before TLS); absent: any source. */
  readonly allowedSourceCidrs?: readonly string[] | undefined;
  /** Per-route request body limits (HTTP/1.1), by path prefix; other paths keep limits.maxBodyBytes. */
  readonly bodyLimits?: readonly BodyLimit[] | undefined;
  /** Temporary measures against callers (the anomaly detector's optional response). */
  readonly callerMeasures?: CallerMeasures | undefined;
  /** Request validation against the declared API (sidecar/validation), after authorization; absent: none. */
  readonly validator?: RequestValidator | undefined;
}

export const INBOUND_ALPN = ['http/1.1', 'h2', 'ztmesh-tcp'];

/**
 * The inbound listener: TLS 1.3 only, client certificate required and verified against the
 * bundle, the peer's SVID checked once per connection, the deny list and the per-peer connection
 * limit applied, then dispatched by ALPN to the HTTP/1.1 pipeline or the opaque-TCP tunnel.
 */
export async function startInbound(p: InboundParams): Promise<ProxyServer> {
  const { limits, logger } = p;
  const metrics = new DataPlaneMetrics(p.metrics);
  const timers = new CoarseTimers(
    CoarseTimers.resolutionFor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs, limits.upstreamTimeoutMs, limits.connectTimeoutMs, limits.idleTimeoutMs)),
  );
  const appPool = new UpstreamPool('app', new PlainConnector(p.app), timers, limits.upstreamIdleTimeoutMs, limits.maxIdlePerUpstream);
  const gate = new InboundGate(p.authorizer, p.authn, p.rateLimit === undefined ? undefined : new InboundRateLimit(p.rateLimit), p.callerMeasures);
  const bodyLimits = p.bodyLimits === undefined || p.bodyLimits.length === 0 ? undefined : new BodyLimits(p.bodyLimits);
  const router = new InboundRouter(appPool, p.app.port, gate, p.observer, p.credentials, p.pathNormalization ?? 'strict', bodyLimits, limits.maxBodyBytes, p.validator);
  const sourceAllowed = p.allowedSourceCidrs === undefined ? undefined : compileIpList(p.allowedSourceCidrs);
  const refusals = new RefusalLog(logger, metrics.refusals, 'inbound');
  const handshakes = new RefusalLog(logger, metrics.handshakeFailures, 'inbound');
  const ctx = new Http1Context(router, limits, timers, metrics, refusals, logger);
  const conns = new ClientConnections();
  const open = metrics.openConnections.labels('inbound');
  const accepted = metrics.connections.labels('inbound');

  const tcpCtx: TcpInboundContext = {
    appHost: p.app.host,
    tcpPorts: p.tcpPorts,
    timers,
    preambleTimeoutMs: limits.headersTimeoutMs,
    connectTimeoutMs: limits.connectTimeoutMs,
    idleTimeoutMs: limits.idleTimeoutMs,
    refusals,
    authorize(peer: PeerInfo, sourceIp: string, port: number): Refusal | undefined {
      const authorizer = p.authorizer();
      if (authorizer === undefined) return refusal(403, 'ZTMESH_SIDECAR_NO_POLICY', 'no valid authorization policy is loaded: denied');
      const decision = authorizer.evaluate(new InboundRequest(peer.id, p.credentials.current?.identity, sourceIp, port, '', '', undefined));
      return decision.decision === 'ALLOW' ? undefined : refusal(403, 'ZTMESH_SIDECAR_DENIED', `denied: ${decision.reason}`);
    },
  };

  const h2 = new H2Inbound({
    appAuthority: `${p.app.host.includes(':') ? `[${p.app.host}]` : p.app.host}:${p.app.port}`,
    appPort: p.app.port,
    gate,
    observer: p.observer,
    credentials: p.credentials,
    refusals,
    pathNormalization: p.pathNormalization ?? 'strict',
    maxConcurrentStreams: limits.maxConcurrentStreams,
    maxHeaderBytes: limits.maxHeaderBytes,
    validator: p.validator,
    maxBodyBytes: (path) => (bodyLimits === undefined ? limits.maxBodyBytes : Math.min(bodyLimits.limitFor(path, limits.maxBodyBytes), limits.maxBodyBytes)),
  });

  const initial = p.credentials.current;
  const server = createServer({
    ...TLS_VERSIONS,
    ...(initial?.tlsOptions ?? {}),
    requestCert: true,
    // The chain is still verified against the bundle by OpenSSL; checking `authorized` ourselves
    // (first thing, before any byte is read) keeps the reason, which Node drops when it rejects.
    rejectUnauthorized: false,
    ALPNProtocols: INBOUND_ALPN,
    allowHalfOpen: true,
    noDelay: true,
    // A client that does not finish its handshake is dropped as promptly as a slow request head.
    handshakeTimeout: limits.headersTimeoutMs,
    SNICallback: (_name, cb) => {
      const current = p.credentials.current;
      if (current === undefined) cb(new Error('no credentials'), undefined);
      else cb(null, current.serverContext);
    },
  });
  p.credentials.onSwap((next) => {
    if (next.tlsOptions !== undefined) server.setSecureContext({ ...TLS_VERSIONS, ...next.tlsOptions });
  });

  const closed = (conn: ClientConnection): void => {
    conns.remove(conn);
    open.dec();
  };

  const sockets = new Set<Socket>();
  server.on('connection', (raw: Socket) => {
    raw.on('error', () => undefined); // reported through 'tlsClientError'
    if (sourceAllowed !== undefined && !sourceAllowed(raw.remoteAddress ?? '')) {
      // Before any TLS work: counted and logged (rate-limited) as a refusal, the socket reset.
      refusals.record('ZTMESH_SIDECAR_SOURCE_NOT_ALLOWED', 'connection refused: source address outside inbound.allowedSourceCidrs', { remote: raw.remoteAddress });
      raw.resetAndDestroy();
      return;
    }
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    const current = p.credentials.current;
    if (current === undefined || current.notAfter < Date.now()) {
      handshakes.record('no_credentials', 'refusing connection: this sidecar holds no valid SVID', { remote: raw.remoteAddress });
      raw.destroy();
    }
  });
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    const reason = handshakeFailureReason(err);
    handshakes.record(reason, 'TLS handshake refused', { remote: socket.remoteAddress, error: (err as { code?: string }).code });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', (err: Error) => logger.debug({ err: err.message, peer: socket.remoteAddress }, 'inbound connection error'));
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) {
      handshakes.record('no_client_cert', 'TLS handshake refused: no client certificate', { remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    if (!socket.authorized) {
      const code = String(socket.authorizationError ?? 'UNKNOWN');
      handshakes.record(handshakeFailureReason({ code }), 'TLS handshake refused: client certificate not trusted', { remote: socket.remoteAddress, error: code });
      socket.destroy();
      return;
    }
    const verdict = verifyPeerSvid(cert, { trustDomains: p.trustDomains, now: Date.now() });
    if (!verdict.ok) {
      handshakes.record('bad_svid', `peer SVID refused: ${verdict.reason}`, { remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    const peer: PeerInfo = { id: verdict.id, serial: cert.serialNumber };
    const denied = p.peerAllowed(peer);
    if (denied !== undefined) {
      refusals.record('ZTMESH_SIDECAR_PEER_DENIED', `peer refused: ${denied}`, { peer: peer.id, serial: peer.serial, remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    accepted.inc();
    let conn: ClientConnection;
    if (socket.alpnProtocol === 'ztmesh-tcp') {
      conn = new TcpInboundConnection(socket, peer, tcpCtx, closed);
    } else if (socket.alpnProtocol === 'h2') {
      const h2conn = h2.accept(socket, peer);
      socket.on('close', () => closed(h2conn));
      conn = h2conn;
    } else {
      conn = new Http1Connection(socket, ctx, peer, closed);
    }
    if (!conns.tryAdd(conn, peer.id, limits.maxConnectionsPerPeer)) {
      refusals.record('ZTMESH_SIDECAR_TOO_MANY_CONNECTIONS', `peer holds ${limits.maxConnectionsPerPeer} connections already`, { peer: peer.id });
      socket.destroy();
      return;
    }
    open.inc();
    // A connection opened during the shutdown notice (by a peer that has not heard yet) is served:
    // HTTP/1.1 responses carry Connection: close; an h2 session gets its GOAWAY when the notice
    // ends (a GOAWAY before its first stream would race that stream). One whose handshake ended
    // after the listener closed drains at once.
    if (listenerClosed) conn.drain();
  });
  let listenerClosed = false;

  const address = await listenOn(server, p.listen);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    conns.destroyAll();
    for (const raw of sockets) raw.destroy();
    appPool.close();
    h2.close();
    timers.close();
    await closeServer(server);
  };
  return {
    address,
    connections: () => conns.size,
    closeWhere: (match) => conns.closeWhere(match),
    async drain(graceMs: number, noticeMs = 0): Promise<void> {
      // The notice first, while still accepting: each HTTP/1.1 response now carries Connection:
      // close, h2 sessions get a GOAWAY that refuses nothing; a peer that has not heard yet
      // connects, is served and told too. Then stop accepting, close idle connections and
      // GOAWAY for good; in-flight exchanges get the grace period.
      ctx.draining = true;
      conns.noticeAll();
      if (noticeMs > 0) await new Promise<void>((r) => setTimeout(r, noticeMs).unref());
      server.close();
      listenerClosed = true;
      conns.drainAll();
      const deadline = Date.now() + graceMs;
      await conns.waitEmpty(graceMs);
      // A TLS handshake accepted before the listener closed turns into a connection after it (the
      // client may already have sent its request): serve that one too, within the grace period.
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise<void>((r) => setTimeout(r, 20).unref());
        await conns.waitEmpty(Math.max(0, deadline - Date.now()));
      }
      await stop();
    },
    close: stop,
  };
}
