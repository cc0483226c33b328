import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export const DISTRIBUTION_PROTO_PATH = fileURLToPath(new URL('../../core/proto/policy-distribution.proto', import.meta.url));

export interface SubscriptionMessage {
  namespace: string;
  podName: string;
  knownVersion: string;
}
export interface AckMessage {
  version: string;
  accepted: boolean;
  reason: string;
}
export interface SubscribeRequestMessage {
  subscribe?: SubscriptionMessage | null;
  ack?: AckMessage | null;
  request?: 'subscribe' | 'ack';
}
export interface PolicySnapshotMessage {
  version: string;
  policiesJson: string[];
  meshConfigJson: string;
  workloadNamespace: string;
  workloadLabels: Record<string, string>;
  generatedAt: number;
}

/** The largest message either side reads (a snapshot of many policies stays far below). */
export const MAX_DISTRIBUTION_MESSAGE_BYTES = 4 * 1024 * 1024;

let cached: grpc.ServiceClientConstructor | undefined;

/** The PolicyDistribution service, loaded from core/proto/policy-distribution.proto (once per process). */
export function distributionServiceDefinition(): grpc.ServiceClientConstructor {
  if (cached === undefined) {
    const definition = loadSync(DISTRIBUTION_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { ztmesh: { control: { v1: { PolicyDistribution: grpc.ServiceClientConstructor } } } };
    cached = pkg.ztmesh.control.v1.PolicyDistribution;
  }
  return cached;
}
