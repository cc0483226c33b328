import * as grpc from '@grpc/grpc-js';
import type { Credentials } from '../../sidecar/tls/credentials.ts';
import { distributionServiceDefinition, type PolicySnapshotMessage, type SubscribeRequestMessage } from '../distribute/distribution-proto.ts';

/** A subscription stream driven by hand (a misbehaving sidecar in tests): real gRPC over mTLS. */
export interface RawSubscription {
  /** The snapshots received so far, in order. */
  readonly snapshots: PolicySnapshotMessage[];
  /** The status the stream ended with, once it ended. */
  readonly ended: Promise<grpc.StatusObject>;
  /** Writes one request (subscribe, ack or report) as is. */
  write(request: SubscribeRequestMessage): void;
  /** Resolves once `count` snapshots arrived (rejects if the stream ends first). */
  waitForSnapshots(count: number): Promise<void>;
  close(): void;
}

/** Opens a stream to the distribution service at 127.0.0.1:`port` and subscribes for `namespace/podName`. */
export function openRawSubscription(port: number, credentials: Credentials, namespace: string, podName: string): RawSubscription {
  const Client = distributionServiceDefinition();
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createFromSecureContext(credentials.clientContext, { checkServerIdentity: () => undefined }), {
    'grpc.ssl_target_name_override': 'ztmesh-operator',
  });
  const call = (client as unknown as { subscribe: () => grpc.ClientDuplexStream<SubscribeRequestMessage, PolicySnapshotMessage> }).subscribe.call(client);
  const snapshots: PolicySnapshotMessage[] = [];
  const waiters: (() => void)[] = [];
  let status: grpc.StatusObject | undefined;
  const ended = new Promise<grpc.StatusObject>((resolve) => {
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      resolve(s);
      for (const w of waiters.splice(0)) w();
    });
  });
  call.on('error', () => undefined);
  call.on('data', (m: PolicySnapshotMessage) => {
    snapshots.push(m);
    call.write({ ack: { version: m.version, accepted: true, reason: '' } });
    for (const w of waiters.splice(0)) w();
  });
  call.write({ subscribe: { namespace, podName, knownVersion: '' } });
  return {
    snapshots,
    ended,
    write: (request) => void call.write(request),
    waitForSnapshots(count) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (snapshots.length >= count) resolve();
          else if (status !== undefined) reject(new Error(`stream ended (${status.code}: ${status.details}) after ${snapshots.length} snapshots`));
          else waiters.push(check);
        };
        check();
      });
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}
