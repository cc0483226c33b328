import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { kubernetesParts, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { verifyPeerSvid } from '../../sidecar/tls/verify-svid.ts';
import { workloadKey, type DesiredState, type WorkloadSnapshot } from '../reconcile/desired-state.ts';
import { servicesForWorkload } from '../reconcile/outbound-services.ts';
import type { DiscoveryCatalog } from '../reconcile/service-discovery.ts';
import { authorizeSubscription } from './authorize-subscription.ts';
import { DISCOVERY_VERSION_PREFIX, DiscoveryStream } from './discovery-stream.ts';
import type { ReportSink } from '../report/report-store.ts';
import { distributionServiceDefinition, MAX_DISTRIBUTION_MESSAGE_BYTES, MAX_SUBSCRIBE_REQUEST_BYTES, type PolicySnapshotMessage, type ServiceDiscoveryMessage, type SubscribeRequestMessage } from './distribution-proto.ts';
import { MtlsServerCredentials, type PemIdentity } from './mtls-server-credentials.ts';

/** One connected sidecar, as `ztmesh status` shows it. */
export interface SubscriberStatus {
  readonly id: number;
  readonly peer: string;
  readonly identity: string;
  readonly workload: string;
  readonly sentVersion: string | undefined;
  readonly ackedVersion: string | undefined;
  readonly ackedAt: number | undefined;
  readonly rejected: { readonly version: string; readonly reason: string } | undefined;
  /** Endpoint discovery on this stream: the version last sent and ACKed, a NACK, pushes so far. */
  readonly discovery?: { readonly sentVersion: string | undefined; readonly ackedVersion: string | undefined; readonly rejected: { readonly version: string; readonly reason: string } | undefined; readonly pushes: number };
}

/** An ACK or NACK from a sidecar (a NACK's reason goes into the policies' status). */
export interface AckEvent {
  readonly workload: string;
  readonly identity: string;
  readonly version: string;
  readonly accepted: boolean;
  readonly reason: string;
  readonly policies: readonly string[];
}

export interface DistributionServerOptions {
  /** HOST:PORT; port 0 picks one. */
  readonly listen: string;
  readonly identity: PemIdentity;
  readonly trustDomain: string;
  readonly logger: Logger;
  readonly onAck?: (event: AckEvent) => void;
  /** Where the sidecars' reports go (keyed by the authenticated pod); without it they are ignored. */
  readonly reports?: ReportSink;
  /** Minimum time between two endpoint discovery pushes to one sidecar (changes coalesce); default 100 ms. */
  readonly discoveryIntervalMs?: number;
  /** How long a stream may stay without its subscribe message; default 10 s. */
  readonly subscribeTimeoutMs?: number;
  readonly clock?: () => number;
}

export interface RunningDistributionServer {
  readonly port: number;
  /**
   * Puts a new desired state in force: every subscriber whose snapshot version changed gets a push.
   * With a discovery catalog, each subscriber also gets (coalesced, as deltas) the Services it may call.
   */
  publish(desired: DesiredState, discovery?: DiscoveryCatalog): void;
  subscribers(): SubscriberStatus[];
  rotate(identity: PemIdentity): void;
  close(): Promise<void>;
}

type Stream = grpc.ServerDuplexStream<SubscribeRequestMessage, PolicySnapshotMessage>;

interface Subscriber {
  readonly id: number;
  readonly call: Stream;
  readonly peer: string;
  readonly identity: SpiffeId;
  readonly key: string;
  sent: WorkloadSnapshot | undefined;
  acked: string | undefined;
  ackedAt: number | undefined;
  rejected: { version: string; reason: string } | undefined;
  readonly discovery: DiscoveryStream;
}

function toMessage(snapshot: WorkloadSnapshot, now: number): PolicySnapshotMessage {
  return {
    version: snapshot.version,
    policiesJson: snapshot.policies.map((p) => JSON.stringify(p)),
    meshConfigJson: JSON.stringify(snapshot.meshConfig),
    workloadNamespace: snapshot.namespace,
    workloadLabels: { ...snapshot.labels },
    generatedAt: now,
  };
}

function fail(call: Stream, code: grpc.status, meshCode: string, reason: string): void {
  call.emit('error', { code, details: `${meshCode}: ${reason}`, metadata: new grpc.Metadata() });
}

/**
 * The operator's policy distribution service: each sidecar, authenticated by its SVID over mutual
 * TLS 1.3, subscribes for its own pod and gets whole, versioned snapshots of the policies selecting
 * it, one push per change; it answers each with an ACK or a NACK (kept for status).
 */
export async function startDistributionServer(options: DistributionServerOptions): Promise<RunningDistributionServer> {
  const log = options.logger.child({ component: 'distribution' });
  const clock = options.clock ?? Date.now;
  const trustDomains = new Set([options.trustDomain]);
  const credentials = new MtlsServerCredentials(options.identity);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_SUBSCRIBE_REQUEST_BYTES, 'grpc.max_send_message_length': MAX_DISTRIBUTION_MESSAGE_BYTES });
  const live = new Map<number, Subscriber>();
  let desired: DesiredState = new Map();
  let catalog: DiscoveryCatalog | undefined;
  let nextId = 1;

  function push(sub: Subscriber, snapshot: WorkloadSnapshot): void {
    if (sub.sent?.version === snapshot.version) return;
    sub.sent = snapshot;
    sub.call.write(toMessage(snapshot, clock()));
  }

  /** Offers a subscriber the Services its workload may call (nothing before the first catalog). */
  function offerDiscovery(sub: Subscriber): void {
    if (catalog === undefined) return;
    const workload = desired.get(sub.key);
    if (workload === undefined) return;
    const { services, truncated } = servicesForWorkload(catalog, workload.outbound);
    if (truncated > 0) log.warn({ workload: sub.key, leftOut: truncated }, 'too many Services for one sidecar; the rest are left out');
    sub.discovery.offer(services);
  }

  /** A discovery update on `sub`'s stream, inside a PolicySnapshot of its current policy version (whole unless ACKed). */
  function discoveryWriter(sub: () => Subscriber): (d: ServiceDiscoveryMessage) => void {
    return (d) => {
      const s = sub();
      const sent = s.sent;
      if (sent === undefined) return;
      const policy = s.acked === sent.version
        ? { version: sent.version, policiesJson: [], meshConfigJson: '', workloadNamespace: sent.namespace, workloadLabels: { ...sent.labels }, generatedAt: clock() }
        : toMessage(sent, clock());
      s.call.write({ ...policy, discovery: d });
    };
  }

  function subscribe(call: Stream): void {
    const peer = call.getPeer();
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    let identity: SpiffeId | undefined;
    if (raw !== undefined) {
      try {
        const verdict = verifyPeerSvid(new X509Certificate(raw), { trustDomains, now: clock() });
        if (verdict.ok) identity = verdict.id;
      } catch {
        identity = undefined;
      }
    }
    if (identity === undefined) {
      log.warn({ peer, code: 'ZTMESH_CONTROL_UNAUTHENTICATED' }, 'subscription refused: no valid SVID');
      fail(call, grpc.status.UNAUTHENTICATED, 'ZTMESH_CONTROL_UNAUTHENTICATED', 'a valid SVID of the mesh trust domain is required');
      return;
    }
    const who = identity;
    let sub: Subscriber | undefined;
    const timer = setTimeout(() => {
      if (sub === undefined) fail(call, grpc.status.INVALID_ARGUMENT, 'ZTMESH_CONTROL_BAD_REQUEST', 'no subscribe message in time');
    }, options.subscribeTimeoutMs ?? 10_000);
    timer.unref();
    call.on('error', (err) => log.debug({ peer, err: { message: err.message } }, 'subscription stream error'));
    call.on('end', () => call.end());
    call.on('close', () => {
      clearTimeout(timer);
      if (sub !== undefined) {
        sub.discovery.close();
        live.delete(sub.id);
        options.reports?.streamEnded({ workload: sub.key, identity: who, streamId: sub.id });
      }
    });
    call.on('data', (req: SubscribeRequestMessage) => {
      if (req.subscribe != null && req.request !== 'ack' && req.request !== 'report') {
        if (sub !== undefined) {
          fail(call, grpc.status.INVALID_ARGUMENT, 'ZTMESH_CONTROL_BAD_REQUEST', 'subscribe sent twice on one stream');
          return;
        }
        clearTimeout(timer);
        const verdict = authorizeSubscription(who, { namespace: req.subscribe.namespace, podName: req.subscribe.podName }, desired);
        if (!verdict.ok) {
          log.warn({ peer, identity: who, namespace: req.subscribe.namespace, pod: req.subscribe.podName, code: verdict.code, reason: verdict.reason }, 'subscription refused');
          const status = verdict.code === 'ZTMESH_CONTROL_PERMISSION_DENIED' ? grpc.status.PERMISSION_DENIED : grpc.status.NOT_FOUND;
          fail(call, status, verdict.code, verdict.reason);
          return;
        }
        const key = workloadKey(verdict.workload.namespace, verdict.workload.podName);
        const self: Subscriber = { id: nextId++, call, peer, identity: who, key, sent: undefined, acked: undefined, ackedAt: undefined, rejected: undefined, discovery: new DiscoveryStream({ send: discoveryWriter(() => self), ...(options.discoveryIntervalMs !== undefined ? { minIntervalMs: options.discoveryIntervalMs } : {}), clock }) };
        sub = self;
        live.set(sub.id, sub);
        log.info({ peer, identity: who, workload: key, knownVersion: req.subscribe.knownVersion || undefined }, 'sidecar subscribed');
        push(sub, verdict.workload.snapshot);
        offerDiscovery(sub);
        return;
      }
      if (req.report != null && req.request === 'report' && sub !== undefined) {
        // What the sidecar observed: validated and kept by the store (which never throws); a bad
        // report is refused there and never touches this stream's policy delivery.
        options.reports?.receive({ workload: sub.key, identity: who, streamId: sub.id }, req.report);
        return;
      }
      if (req.ack != null && sub !== undefined && req.ack.version.startsWith(DISCOVERY_VERSION_PREFIX)) {
        sub.discovery.ack(req.ack.version, req.ack.accepted, req.ack.reason);
        if (!req.ack.accepted) log.warn({ code: 'ZTMESH_CONTROL_DISCOVERY_REJECTED', workload: sub.key, identity: who, version: req.ack.version, reason: req.ack.reason.slice(0, 1024) }, 'sidecar refused an endpoint discovery update; the next one is sent whole');
        return;
      }
      if (req.ack != null && sub !== undefined) {
        const ack = req.ack;
        const sent = sub.sent;
        if (ack.accepted) {
          sub.acked = ack.version;
          sub.ackedAt = clock();
          if (sub.rejected?.version === ack.version) sub.rejected = undefined;
        } else {
          sub.rejected = { version: ack.version, reason: ack.reason.slice(0, 1024) };
          log.warn({ workload: sub.key, identity: who, version: ack.version, reason: sub.rejected.reason }, 'sidecar refused a policy snapshot');
        }
        const policies = sent !== undefined && sent.version === ack.version ? sent.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`) : [];
        options.onAck?.({ workload: sub.key, identity: who, version: ack.version, accepted: ack.accepted, reason: ack.accepted ? '' : sub.rejected!.reason, policies });
        return;
      }
      fail(call, grpc.status.INVALID_ARGUMENT, 'ZTMESH_CONTROL_BAD_REQUEST', sub === undefined ? 'the first message must be subscribe' : 'empty request');
    });
  }

  server.addService(distributionServiceDefinition().service, { Subscribe: subscribe });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.listen, credentials, (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
  } catch (err) {
    server.forceShutdown();
    throw new MeshError('ZTMESH_CONTROL_LISTEN_FAILED', `cannot listen on ${options.listen}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { listen: options.listen } });
  }

  return {
    port,
    publish(next, discovery) {
      desired = next;
      if (discovery !== undefined) catalog = discovery;
      for (const sub of live.values()) {
        const workload = next.get(sub.key);
        if (workload === undefined || workload.serviceAccount !== kubernetesParts(sub.identity)?.serviceAccount) {
          // The pod is gone or now runs as someone else: this stream may no longer learn its policies.
          fail(sub.call, grpc.status.PERMISSION_DENIED, 'ZTMESH_CONTROL_PERMISSION_DENIED', `workload ${sub.key} is no longer served to ${sub.identity}`);
          sub.discovery.close();
          live.delete(sub.id);
          options.reports?.streamEnded({ workload: sub.key, identity: sub.identity, streamId: sub.id });
          continue;
        }
        push(sub, workload.snapshot);
        offerDiscovery(sub);
      }
    },
    subscribers() {
      return [...live.values()].map((s) => ({ id: s.id, peer: s.peer, identity: s.identity, workload: s.key, sentVersion: s.sent?.version, ackedVersion: s.acked, ackedAt: s.ackedAt, rejected: s.rejected, discovery: { sentVersion: s.discovery.sentVersion, ackedVersion: s.discovery.ackedVersion, rejected: s.discovery.rejected, pushes: s.discovery.pushes } }));
    },
    rotate(identity) {
      credentials.swap(identity);
    },
    async close() {
      for (const sub of live.values()) {
        sub.discovery.close();
        sub.call.end();
      }
      live.clear();
      // Streams were ended cleanly above; idle client connections are not waited for long.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
