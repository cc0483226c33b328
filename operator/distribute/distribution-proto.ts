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
/** What a sidecar observed (core/proto/policy-distribution.proto SidecarReport); JSON payloads as strings. */
export interface SidecarReportMessage {
  sequence: number;
  generatedAt: number;
  identityJson: string;
  inventoryJson: string;
  decisionsJson: string;
  anomaliesJson: string;
  requestsText: string;
  truncated: string[];
}
export interface SubscribeRequestMessage {
  subscribe?: SubscriptionMessage | null;
  ack?: AckMessage | null;
  report?: SidecarReportMessage | null;
  request?: 'subscribe' | 'ack' | 'report';
}
export interface PolicySnapshotMessage {
  version: string;
  policiesJson: string[];
  meshConfigJson: string;
  workloadNamespace: string;
  workloadLabels: Record<string, string>;
  generatedAt: number;
  /** Endpoint discovery (absent, i.e. null, on policy-only pushes). */
  discovery?: ServiceDiscoveryMessage | null;
}
export interface DiscoveredEndpointMessage {
  address: string;
  port: number;
  identity: string;
  pod: string;
}
export interface DiscoveredPortMessage {
  name: string;
  port: number;
  endpoints: DiscoveredEndpointMessage[];
}
export interface DiscoveredServiceMessage {
  name: string;
  namespace: string;
  ports: DiscoveredPortMessage[];
}
export interface ServiceDiscoveryMessage {
  version: string;
  full: boolean;
  services: DiscoveredServiceMessage[];
  removed: string[];
}

/** The largest message either side reads (a snapshot of many policies stays far below). */
export const MAX_DISTRIBUTION_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The largest report a sidecar builds (it cuts its parts to fit). */
export const MAX_SENT_REPORT_BYTES = 512 * 1024;
/** The largest report the operator accepts (larger ones are refused, counted and logged). */
export const MAX_ACCEPTED_REPORT_BYTES = 1024 * 1024;
/**
 * The largest message the operator's gRPC server reads: above the accepted report size, so an
 * oversized report is refused by the operator's validation (the stream and its policy delivery
 * go on) rather than by gRPC (which would end the stream).
 */
export const MAX_SUBSCRIBE_REQUEST_BYTES = 2 * 1024 * 1024;

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
