import type { PolicyAuthorizer } from '../../core/policy/compile.ts';
import type { DenyList } from '../../core/policy/deny-list.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { PolicySource } from '../policy/policy-source.ts';
import type { Credentials } from '../tls/credentials.ts';
import type { ServiceDiscoveryMessage, SidecarReportMessage } from '../../operator/distribute/distribution-proto.ts';
import { startPolicySubscriber, type PolicySubscriber } from './policy-subscriber.ts';

export interface ControlPolicySourceOptions {
  /** HOST:PORT of the operator's distribution service. */
  readonly address: string;
  /** The SPIFFE ID the operator must present. */
  readonly operatorIdentity: string;
  readonly credentials: () => Credentials | undefined;
  readonly namespace: string;
  readonly podName: string;
  readonly logger: Logger;
  readonly onChange?: (authorizer: PolicyAuthorizer) => void;
  readonly onDenyListChange?: (denyList: DenyList) => void;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Reports of what the sidecar observed, sent on the same stream (see PolicySubscriberOptions.report). */
  readonly report?: { readonly intervalMs: number; readonly build: () => SidecarReportMessage } | undefined;
  /** Endpoint discovery updates (see PolicySubscriberOptions.onDiscovery). */
  readonly onDiscovery?: (discovery: ServiceDiscoveryMessage) => void;
}

/**
 * The sidecar's PolicySource fed by the operator instead of files: the same interface the data
 * plane reads (authorizer, mesh config, handshake deny list), so sidecar/main.ts can pick one or
 * the other. No authorizer until the first snapshot (fail closed); the last good one is kept while
 * the operator is unreachable.
 */
export function startControlPolicySource(o: ControlPolicySourceOptions): PolicySource & { readonly subscriber: PolicySubscriber } {
  let denyKey = '';
  const subscriber = startPolicySubscriber({
    address: o.address,
    operatorIdentity: o.operatorIdentity,
    credentials: o.credentials,
    namespace: o.namespace,
    podName: o.podName,
    logger: o.logger,
    ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
    report: o.report,
    ...(o.onDiscovery !== undefined ? { onDiscovery: o.onDiscovery } : {}),
    onSnapshot: (s) => {
      o.onChange?.(s.authorizer);
      const key = JSON.stringify(s.meshConfig.denyList);
      if (key !== denyKey) {
        const first = denyKey === '';
        denyKey = key;
        if (!first || s.authorizer.denyList.size > 0) o.onDenyListChange?.(s.authorizer.denyList);
      }
    },
  });
  return {
    subscriber,
    authorizer: () => subscriber.current()?.authorizer,
    meshConfig: () => subscriber.current()?.meshConfig,
    peerAllowed(peer) {
      const list = subscriber.current()?.authorizer.denyList;
      if (list === undefined || list.size === 0) return undefined;
      if (list.hasSpiffeId(peer.id)) return 'SPIFFE ID is on the mesh deny list';
      if (list.hasSerial(peer.serial)) return 'certificate serial is on the mesh deny list';
      return undefined;
    },
    // Pushed, not pulled: there is nothing to re-read.
    reload: () => Promise.resolve(false),
    close: () => subscriber.close(),
  };
}
