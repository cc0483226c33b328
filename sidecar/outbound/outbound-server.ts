import { createServer, type Socket } from 'node:net';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Registry } from '../../core/telemetry/metrics.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { Http1Limits } from '../http1/limits.ts';
import type { HostPort, ProxyServer } from '../inbound/proxy-server.ts';
import type { ServiceTarget } from './service-table.ts';
import { DataPlaneMetrics } from '../errors/dataplane-metrics.ts';
import { RefusalLog } from '../errors/refusal-log.ts';
import { CoarseTimers } from '../pool/coarse-timers.ts';
import { BalancedPool } from '../balance/balanced-pool.ts';
import { BalancedConnector } from '../balance/balanced-connector.ts';
import { EndpointMetrics } from '../balance/endpoint-metrics.ts';
import { ServicePolicy } from '../balance/service-policy.ts';
import { formatHostPort } from '../config/host-port.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { ClientConnections } from '../pool/client-connections.ts';
import { Http1Context } from '../http1/http1-context.ts';
import { Http1Connection } from '../http1/http1-connection.ts';
import type { ClientConnection } from '../pool/client-connections.ts';
import { TcpOutboundListener } from '../tcp/tcp-outbound-listener.ts';
import { listenOn, closeServer } from '../inbound/listen.ts';
import { PeerConnector } from './peer-connector.ts';
import { OutboundRouter } from './outbound-router.ts';
import { ServiceEntry } from './service-table.ts';
import { H2Outbound } from '../h2/h2-outbound.ts';

export type { HostPort, ProxyServer } from '../inbound/proxy-server.ts';
export type { ServiceTarget } from './service-table.ts';

/** The HTTP/2 client connection preface (RFC 9113 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface OutboundParams {
  readonly listen: HostPort;
  readonly services: ReadonlyMap<string, ServiceTarget>;
  readonly credentials: CredentialsRef;
  readonly trustDomains: ReadonlySet<string>;
  readonly limits: Http1Limits;
  readonly observer: RequestObserver;
  readonly metrics: Registry;
  readonly logger: Logger;
}

/** The outbound server, with the bound addresses of its TCP service listeners by service name. */
export interface OutboundServer extends ProxyServer {
  readonly tcpListeners: ReadonlyMap<string, HostPort>;
  /**
   * Adds an HTTP service or replaces its identity-checked endpoint set at runtime (config reload,
   * cluster discovery). Endpoints still present keep their connections; removed ones finish
   * their in-flight requests and close (HTTP/1.1: `Connection: close` after their exchange;
   * HTTP/2: GOAWAY once their streams finish; tcp: open connections run on, new ones go elsewhere).
   * A changed identity replaces all connections. Timeouts, retry policy and routes apply to new
   * requests. A tcp service cannot be added or change protocol at runtime (ZTMESH_CONFIG_INVALID).
   */
  updateService(name: string, target: ServiceTarget): void;
  /** Takes one endpoint (`host:port`) out of an HTTP service (HTTP/1.1 and h2); false when it was not there. */
  removeEndpoint(name: string, endpoint: string): boolean;
}

/**
 * The outbound listener: plaintext HTTP/1.1 from the local app, routed by authority to a service
 * and carried over pooled, long-lived mTLS connections to the destination sidecar whose SPIFFE ID
 * must be exactly the configured one. Each TCP service gets its own local listener.
 */
export async function startOutbound(p: OutboundParams): Promise<OutboundServer> {
  const { limits, logger } = p;
  const metrics = new DataPlaneMetrics(p.metrics);
  // Service and route timeouts share the sweep: fine enough for the shortest configured one.
  const serviceTimeouts = [...p.services.values()].flatMap((t) => [t.timeoutMs ?? Infinity, ...(t.routes ?? []).map((r) => r.timeoutMs ?? Infinity)]);
  const timers = new CoarseTimers(
    CoarseTimers.resolutionFor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs, limits.upstreamTimeoutMs, limits.connectTimeoutMs, limits.idleTimeoutMs, ...serviceTimeouts)),
  );
  const refusals = new RefusalLog(logger, metrics.refusals, 'outbound');
  const entries = new Map<string, ServiceEntry>();
  const endpointMetrics = new EndpointMetrics(p.metrics);
  const newEntry = (target: ServiceTarget): ServiceEntry => {
    const pool = new BalancedPool(
      {
        service: target.name,
        kind: target.balancer ?? 'p2c-ewma',
        metrics: endpointMetrics,
        connectorFor: (endpoint) => new PeerConnector(endpoint, target.identity, p.credentials, p.trustDomains, 'http/1.1'),
        timers,
        idleTimeoutMs: limits.upstreamIdleTimeoutMs,
        maxIdle: limits.maxIdlePerUpstream,
        logger,
      },
      target.endpoints,
    );
    return new ServiceEntry(target, pool, new ServicePolicy(target, pool, endpointMetrics, logger));
  };
  const tcp: TcpOutboundListener[] = [];
  const tcpConnectors = new Map<string, BalancedConnector>();
  for (const [name, target] of p.services) {
    if (target.protocol === 'tcp') {
      if (target.listen === undefined || target.port === undefined) continue;
      const connector = new BalancedConnector(
        name,
        target.balancer ?? 'p2c-ewma',
        target.endpoints,
        (endpoint, identity) => new PeerConnector(endpoint, identity, p.credentials, p.trustDomains, 'ztmesh-tcp'),
        endpointMetrics,
        logger,
        target.identity,
      );
      tcpConnectors.set(name, connector);
      tcp.push(new TcpOutboundListener(name, connector, target.port, refusals, limits.maxConnectionsPerPeer, limits.connectTimeoutMs));
      continue;
    }
    entries.set(name, newEntry(target));
  }
  const router = new OutboundRouter(entries, p.observer, p.credentials);
  const ctx = new Http1Context(router, limits, timers, metrics, refusals, logger);
  const conns = new ClientConnections();
  const open = metrics.openConnections.labels('outbound');
  const accepted = metrics.connections.labels('outbound');
  const closed = (conn: ClientConnection): void => {
    conns.remove(conn);
    open.dec();
  };
  const h2 = new H2Outbound({
    services: p.services,
    credentials: p.credentials,
    trustDomains: p.trustDomains,
    observer: p.observer,
    refusals,
    maxConcurrentStreams: limits.maxConcurrentStreams,
    timers,
    metrics: endpointMetrics,
    logger,
  });

  /** Protocol detected from the first bytes: the HTTP/2 preface means h2c, anything else HTTP/1.1. */
  const dispatch = (socket: Socket, first: Buffer): void => {
    let conn: ClientConnection;
    const isH2 = first.length >= H2_PREFACE.length && first.compare(H2_PREFACE, 0, H2_PREFACE.length, 0, H2_PREFACE.length) === 0;
    if (isH2) {
      conn = { socket, peer: undefined, drain: () => undefined };
      socket.on('close', () => closed(conn));
    } else {
      conn = new Http1Connection(socket, ctx, undefined, closed);
    }
    if (!conns.tryAdd(conn, socket.remoteAddress ?? '', limits.maxConnectionsPerPeer)) {
      refusals.record('ZTMESH_SIDECAR_TOO_MANY_CONNECTIONS', 'too many connections from this source', { remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    open.inc();
    if (isH2) {
      socket.pause();
      socket.unshift(first);
      h2.accept(socket);
      return;
    }
    if (ctx.draining) (conn as Http1Connection).drain();
    (conn as Http1Connection).onData(first);
  };

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    socket.on('error', (err: Error) => logger.debug({ err: err.message }, 'outbound connection error'));
    accepted.inc();
    let head: Buffer | null = null;
    const sniff = (chunk: Buffer): void => {
      const buf = head === null ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(buf.length, H2_PREFACE.length);
      if (n < H2_PREFACE.length && buf.compare(H2_PREFACE, 0, n, 0, n) === 0) {
        head = buf; // could still be the preface: wait for more
        return;
      }
      socket.removeListener('data', sniff);
      socket.removeListener('end', ended);
      dispatch(socket, buf);
    };
    const ended = (): void => {
      socket.destroy();
    };
    socket.on('data', sniff);
    socket.on('end', ended);
  });

  const address = await listenOn(server, p.listen);
  const tcpAddresses = new Map<string, HostPort>();
  const services = [...p.services.values()];
  for (const listener of tcp) {
    const target = services.find((s) => s.name === listener.name) ?? p.services.get(listener.name)!;
    tcpAddresses.set(listener.name, await listenOn(listener.server, target.listen!));
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    conns.destroyAll();
    for (const listener of tcp) listener.conns.destroyAll();
    for (const entry of entries.values()) entry.pool.close();
    h2.close();
    timers.close();
    await Promise.all([closeServer(server), ...tcp.map((l) => closeServer(l.server))]);
  };
  const updateService = (name: string, target: ServiceTarget): void => {
    if (target.name !== name) throw new MeshError('ZTMESH_CONFIG_INVALID', `updateService(${JSON.stringify(name)}) takes a target of the same name`);
    const connector = tcpConnectors.get(name);
    if ((connector !== undefined) !== (target.protocol === 'tcp')) {
      // A tcp service needs a local listener: it cannot appear, disappear or change protocol at runtime.
      throw new MeshError('ZTMESH_CONFIG_INVALID', `service ${JSON.stringify(name)} cannot change protocol or become a new tcp service at runtime (restart the sidecar)`);
    }
    if (connector !== undefined) {
      connector.update(target.endpoints, target.identity);
      return;
    }
    h2.update(target);
    const entry = entries.get(name);
    if (entry === undefined || entry.target.identity !== target.identity || (entry.target.balancer ?? 'p2c-ewma') !== (target.balancer ?? 'p2c-ewma')) {
      entries.set(name, newEntry(target));
      entry?.pool.update([]); // old connections finish their exchange, then close
      return;
    }
    entry.target = target;
    entry.policy.update(target);
    entry.pool.update(target.endpoints);
  };
  return {
    address,
    tcpListeners: tcpAddresses,
    updateService,
    removeEndpoint(name: string, endpoint: string): boolean {
      const entry = entries.get(name);
      if (entry === undefined) return false;
      const rest = entry.target.endpoints.filter((e) => formatHostPort(e) !== endpoint);
      if (rest.length === entry.target.endpoints.length) return false;
      updateService(name, { ...entry.target, endpoints: rest });
      return true;
    },
    connections: () => conns.size + tcp.reduce((n, l) => n + l.conns.size, 0),
    closeWhere: () => 0, // outbound clients are the local app: no peer identity to match
    async drain(graceMs: number): Promise<void> {
      ctx.draining = true;
      server.close();
      for (const listener of tcp) listener.server.close();
      conns.drainAll();
      h2.drain();
      await Promise.all([conns.waitEmpty(graceMs), ...tcp.map((l) => l.conns.waitEmpty(graceMs))]);
      await stop();
    },
    close: stop,
  };
}
