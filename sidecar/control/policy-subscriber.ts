import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { errorCode } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { distributionServiceDefinition, MAX_DISTRIBUTION_MESSAGE_BYTES, type PolicySnapshotMessage, type ServiceDiscoveryMessage, type SidecarReportMessage, type SubscribeRequestMessage } from '../../operator/distribute/distribution-proto.ts';
import type { Credentials } from '../tls/credentials.ts';
import { verifyPeerSvid } from '../tls/verify-svid.ts';
import { applySnapshot, type AppliedSnapshot } from './apply-snapshot.ts';
import { JitteredBackoff } from './jittered-backoff.ts';

export interface PolicySubscriberOptions {
  /** HOST:PORT of the operator's distribution service. */
  readonly address: string;
  /** The SPIFFE ID the operator must present, e.g. spiffe://<td>/ns/ztmesh-system/sa/ztmesh-operator. */
  readonly operatorIdentity: string;
  /** This sidecar's current credentials (read at each connection attempt, so rotation is picked up). */
  readonly credentials: () => Credentials | undefined;
  /** The pod this sidecar serves. */
  readonly namespace: string;
  readonly podName: string;
  readonly logger: Logger;
  /** Called with each snapshot put in force (after validation and compilation). */
  readonly onSnapshot?: (snapshot: AppliedSnapshot) => void;
  /** Called after each refused push, with the reason sent in the NACK. */
  readonly onReject?: (version: string, reason: string) => void;
  /**
   * Endpoint discovery updates (PolicySnapshot.discovery): ACKed with their version when this
   * returns, NACKed with the error's message when it throws. Without it they are ignored (not ACKed).
   */
  readonly onDiscovery?: (discovery: ServiceDiscoveryMessage) => void;
  /**
   * Reports of what this sidecar observed, sent on the stream once it delivered a snapshot, then
   * every `intervalMs` while it stays up (for the operator's aggregate inventory and dashboard).
   */
  readonly report?: { readonly intervalMs: number; readonly build: () => SidecarReportMessage } | undefined;
  /** Reconnect backoff; default 200 ms doubling to 15 s, jittered. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly random?: () => number };
  readonly clock?: () => number;
}

export interface PolicySubscriber {
  /** The last good snapshot: kept while the operator is unreachable; undefined until the first. */
  current(): AppliedSnapshot | undefined;
  /** True while a subscription stream is open and has delivered a snapshot. */
  connected(): boolean;
  /** Resolves with the first snapshot put in force. */
  firstSnapshot(): Promise<AppliedSnapshot>;
  close(): void;
}

function checkOperator(expected: string, trustDomain: string) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    try {
      const verdict = verifyPeerSvid(new X509Certificate(cert.raw), { trustDomains: new Set([trustDomain]), now: Date.now() });
      if (!verdict.ok) return new Error(`operator certificate is not a valid SVID: ${verdict.reason}`);
      if (verdict.id !== expected) return new Error(`operator presented ${verdict.id}, expected ${expected}`);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
}

/**
 * The sidecar side of policy distribution: subscribes for its own pod over mutual TLS 1.3 (its SVID;
 * the operator's SPIFFE ID checked exactly), validates and compiles each pushed snapshot, ACKs it
 * or NACKs it with the reason (keeping the previous one), and reconnects with jittered capped
 * backoff whenever the stream ends. The last good snapshot stays in force while disconnected
 * (kept in memory only: nothing is written to disk).
 */
export function startPolicySubscriber(options: PolicySubscriberOptions): PolicySubscriber {
  const log = options.logger.child({ component: 'policy-subscriber' });
  const clock = options.clock ?? Date.now;
  const backoff = new JitteredBackoff(options.backoff ?? { initialMs: 200, maxMs: 15_000 });
  const Client = distributionServiceDefinition();
  let current: AppliedSnapshot | undefined;
  let streamUp = false;
  let closed = false;
  let client: grpc.Client | undefined;
  let call: grpc.ClientDuplexStream<SubscribeRequestMessage, PolicySnapshotMessage> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  let resolveFirst: (s: AppliedSnapshot) => void = () => {};
  const first = new Promise<AppliedSnapshot>((resolve) => {
    resolveFirst = resolve;
  });

  function stopReports(): void {
    if (reportTimer !== undefined) clearInterval(reportTimer);
    reportTimer = undefined;
  }

  function sendReport(): void {
    if (options.report === undefined || call === undefined) return;
    try {
      call.write({ report: options.report.build() });
    } catch (err) {
      log.warn({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'could not send a report to the operator');
    }
  }

  function retry(reason: string, code: string): void {
    stopReports();
    streamUp = false;
    call = undefined;
    client?.close();
    client = undefined;
    if (closed) return;
    const delay = backoff.next();
    log.warn({ code, reason, retryInMs: delay, keeping: current?.version }, 'policy subscription down; keeping the last good policies');
    timer = setTimeout(connect, delay);
    timer.unref();
  }

  function onSnapshot(message: PolicySnapshotMessage): void {
    backoff.reset();
    streamUp = true;
    if (current?.version === message.version) {
      // A discovery update rides on the version in force: its own ACK is enough.
      if (message.discovery == null) call?.write({ ack: { version: message.version, accepted: true, reason: '' } });
      return;
    }
    try {
      const applied = applySnapshot(message, options.namespace, clock());
      current = applied;
      call?.write({ ack: { version: applied.version, accepted: true, reason: '' } });
      log.info({ version: applied.version, policies: applied.authorizer.selected }, 'policy snapshot in force');
      options.onSnapshot?.(applied);
      resolveFirst(applied);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      call?.write({ ack: { version: message.version, accepted: false, reason } });
      log.error({ code: errorCode(err), version: message.version, keeping: current?.version }, 'policy snapshot refused; keeping the previous one');
      options.onReject?.(message.version, reason);
    }
  }

  function onDiscovery(d: ServiceDiscoveryMessage): void {
    if (options.onDiscovery === undefined) return;
    try {
      options.onDiscovery(d);
      call?.write({ ack: { version: d.version, accepted: true, reason: '' } });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      call?.write({ ack: { version: d.version, accepted: false, reason } });
      log.error({ code: errorCode(err), version: d.version, reason }, 'endpoint discovery update refused; keeping the previous services');
    }
  }

  function connect(): void {
    timer = undefined;
    if (closed) return;
    const creds = options.credentials();
    if (creds === undefined) {
      retry('no SVID yet', 'ZTMESH_CONTROL_STREAM_FAILED');
      return;
    }
    const channelCreds = grpc.credentials.createFromSecureContext(creds.clientContext, { checkServerIdentity: checkOperator(options.operatorIdentity, creds.trustDomain) });
    client = new Client(options.address, channelCreds, {
      'grpc.max_receive_message_length': MAX_DISTRIBUTION_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.enable_retries': 0,
      // The operator is checked by SPIFFE ID, not host name; an IP address is not a valid TLS server name.
      'grpc.ssl_target_name_override': 'ztmesh-operator',
    });
    const subscribeFn = (client as unknown as { subscribe: () => grpc.ClientDuplexStream<SubscribeRequestMessage, PolicySnapshotMessage> }).subscribe;
    const stream = subscribeFn.call(client);
    call = stream;
    let ended = false;
    const end = (reason: string, code: string) => {
      if (ended) return;
      ended = true;
      if (call === stream) retry(reason, code);
    };
    stream.on('data', (m: PolicySnapshotMessage) => {
      if (call !== stream) return;
      onSnapshot(m);
      if (m.discovery != null) onDiscovery(m.discovery);
      if (options.report !== undefined && options.report.intervalMs > 0 && reportTimer === undefined) {
        // The stream works: report now (the operator's view fills at once), then periodically.
        sendReport();
        reportTimer = setInterval(sendReport, options.report.intervalMs);
        reportTimer.unref();
      }
    });
    stream.on('error', (err: grpc.ServiceError) => end(`${grpc.status[err.code] ?? 'error'}: ${err.details ?? err.message}`, 'ZTMESH_CONTROL_STREAM_FAILED'));
    stream.on('end', () => end('stream ended by the operator', 'ZTMESH_CONTROL_STREAM_FAILED'));
    stream.write({ subscribe: { namespace: options.namespace, podName: options.podName, knownVersion: current?.version ?? '' } });
  }

  connect();
  return {
    current: () => current,
    connected: () => streamUp,
    firstSnapshot: () => first,
    close() {
      closed = true;
      stopReports();
      if (timer !== undefined) clearTimeout(timer);
      const c = call;
      call = undefined;
      c?.cancel();
      client?.close();
      client = undefined;
      streamUp = false;
    },
  };
}

