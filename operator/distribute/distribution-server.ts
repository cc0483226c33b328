import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { kubernetesParts, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { verifyPeerSvid } from '../../sidecar/tls/verify-svid.ts';
import { workloadKey, type DesiredState, type WorkloadSnapshot } from '../reconcile/desired-state.ts';
import { authorizeSubscription } from './authorize-subscription.ts';
import { distributionServiceDefinition, MAX_DISTRIBUTION_MESSAGE_BYTES, type PolicySnapshotMessage, type SubscribeRequestMessage } from './distribution-proto.ts';
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
  /** How long a stream may stay without its subscribe message; default 10 s. */
  readonly subscribeTimeoutMs?: number;
  readonly clock?: () => number;
}

export interface RunningDistributionServer {
  readonly port: number;
  /** Puts a new desired state in force: every subscriber whose snapshot version changed gets a push. */
  publish(desired: DesiredState): void;
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
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024, 'grpc.max_send_message_length': MAX_DISTRIBUTION_MESSAGE_BYTES });
  const live = new Map<number, Subscriber>();
  let desired: DesiredState = new Map();
  let nextId = 1;

  function push(sub: Subscriber, snapshot: WorkloadSnapshot): void {
    if (sub.sent?.version === snapshot.version) return;
    sub.sent = snapshot;
    sub.call.write(toMessage(snapshot, clock()));
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
      if (sub !== undefined) live.delete(sub.id);
    });
    call.on('data', (req: SubscribeRequestMessage) => {
      if (req.subscribe != null && req.request !== 'ack') {
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
        sub = { id: nextId++, call, peer, identity: who, key, sent: undefined, acked: undefined, ackedAt: undefined, rejected: undefined };
        live.set(sub.id, sub);
        log.info({ peer, identity: who, workload: key, knownVersion: req.subscribe.knownVersion || undefined }, 'sidecar subscribed');
        push(sub, verdict.workload.snapshot);
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
    publish(next) {
      desired = next;
      for (const sub of live.values()) {
        const workload = next.get(sub.key);
        if (workload === undefined || workload.serviceAccount !== kubernetesParts(sub.identity)?.serviceAccount) {
          // The pod is gone or now runs as someone else: this stream may no longer learn its policies.
          fail(sub.call, grpc.status.PERMISSION_DENIED, 'ZTMESH_CONTROL_PERMISSION_DENIED', `workload ${sub.key} is no longer served to ${sub.identity}`);
          live.delete(sub.id);
          continue;
        }
        push(sub, workload.snapshot);
      }
    },
    subscribers() {
      return [...live.values()].map((s) => ({ id: s.id, peer: s.peer, identity: s.identity, workload: s.key, sentVersion: s.sent?.version, ackedVersion: s.acked, ackedAt: s.ackedAt, rejected: s.rejected }));
    },
    rotate(identity) {
      credentials.swap(identity);
    },
    async close() {
      for (const sub of live.values()) sub.call.end();
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
