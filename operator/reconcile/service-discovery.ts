import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { kubernetesSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { KubeObject } from './kube-object.ts';
import { serviceKey } from './outbound-services.ts';
import { isMeshedPod } from './workloads-reconcile.ts';

/** At most this many endpoints per Service port are sent (the sidecar schema's bound); the rest are left out. */
export const MAX_ENDPOINTS_PER_PORT = 1000;
/** The namespace label that meshes a namespace (the injector's). */
const MESHED_NAMESPACE_LABEL = 'ztmesh.io/inject';
/** EndpointSlices name their Service in this label. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One endpoint a client sidecar may use, with the only identity it accepts there. */
export interface CatalogEndpoint {
  /** Pod IP (the slice's first address). */
  readonly address: string;
  /** Target port (named ports resolved). */
  readonly port: number;
  /** From the pod's service account, never from a host name. */
  readonly identity: SpiffeId;
  /** NS/POD. */
  readonly pod: string;
}

export interface CatalogPort {
  /** The Service port's name ('' for a single unnamed port). */
  readonly name: string;
  /** The Service port: what clients dial. */
  readonly port: number;
  /** Sorted by address then port; ready, not terminating, meshed pods only. */
  readonly endpoints: readonly CatalogEndpoint[];
}

export interface CatalogService {
  readonly name: string;
  readonly namespace: string;
  /** Sorted by port. */
  readonly ports: readonly CatalogPort[];
  /** Content hash: equal versions carry equal ports and endpoints. */
  readonly version: string;
}

/** Why an endpoint was not sent (for the log and `ztmesh status`). */
export interface LeftOutEndpoint {
  readonly service: string;
  readonly address: string;
  readonly reason: 'not ready' | 'terminating' | 'no pod reference' | 'pod unknown' | 'pod not meshed' | 'named port not found' | 'over limit';
}

export interface DiscoveryCatalog {
  /** Meshed Services keyed "NAME.NAMESPACE". */
  readonly services: ReadonlyMap<string, CatalogService>;
  readonly leftOut: readonly LeftOutEndpoint[];
}

interface ServicePortSpec {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
}
interface ServiceSpec {
  type?: string;
  ports?: ServicePortSpec[];
  publishNotReadyAddresses?: boolean;
}
interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: string; name?: string; namespace?: string };
}
interface SliceShape {
  addressType?: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string | null; port?: number | null; protocol?: string }[] | null;
}
interface PodShape {
  spec?: { serviceAccountName?: string; containers?: { ports?: { name?: string; containerPort?: number }[] }[] };
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function containerPort(pod: KubeObject, name: string): number | undefined {
  for (const c of (pod as PodShape).spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === name && p.containerPort !== undefined) return p.containerPort;
  }
  return undefined;
}

/**
 * Observed Services, EndpointSlices (discovery.k8s.io/v1), Pods and Namespaces → the meshed
 * Services and, per Service port, the endpoints a client sidecar may use, each with the SPIFFE ID
 * of its pod's service account. Pure: the same input gives the same catalog and versions.
 *
 * - A Service is meshed when its namespace carries `ztmesh.io/inject=enabled` or one of its
 *   endpoints is a meshed pod; ExternalName and headless-without-ports Services are skipped, as are
 *   non-TCP ports.
 * - An endpoint is used when ready (unset counts as ready; `publishNotReadyAddresses` admits
 *   not-ready ones) and not terminating (terminating endpoints are drained: no new requests).
 * - Its identity comes only from the pod named by `targetRef`: no pod reference, an unknown pod or
 *   a pod without the sidecar (which could not prove any identity) leaves the endpoint out.
 * - Its port is the slice's port of the same name; a slice port without a number is resolved from
 *   the Service's targetPort (a number, or a named container port of that pod).
 */
export function reconcileDiscovery(input: {
  services: readonly KubeObject[];
  endpointSlices: readonly KubeObject[];
  pods: readonly KubeObject[];
  namespaces: readonly KubeObject[];
  trustDomain: string;
}): DiscoveryCatalog {
  const pods = new Map(input.pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  const meshedNamespaces = new Set(input.namespaces.filter((n) => n.metadata?.labels?.[MESHED_NAMESPACE_LABEL] === 'enabled').map((n) => n.metadata?.name));
  const slicesByService = new Map<string, KubeObject[]>();
  for (const slice of input.endpointSlices) {
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined || slice.metadata?.namespace === undefined) continue;
    const key = serviceKey(svc, slice.metadata.namespace);
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const services = new Map<string, CatalogService>();
  const leftOut: LeftOutEndpoint[] = [];
  for (const svc of input.services) {
    const name = svc.metadata?.name;
    const namespace = svc.metadata?.namespace;
    const spec = (svc.spec ?? {}) as ServiceSpec;
    if (name === undefined || namespace === undefined || spec.type === 'ExternalName') continue;
    const key = serviceKey(name, namespace);
    const slices = (slicesByService.get(key) ?? []) as (KubeObject & SliceShape)[];
    let anyMeshedPod = false;
    const ports: CatalogPort[] = [];
    const skipped: LeftOutEndpoint[] = [];
    for (const sp of spec.ports ?? []) {
      if ((sp.protocol ?? 'TCP') !== 'TCP' || sp.port === undefined) continue;
      const portName = sp.name ?? '';
      const endpoints = new Map<string, CatalogEndpoint>();
      for (const slice of slices) {
        if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
        const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === portName);
        if (slicePort === undefined) continue;
        for (const ep of slice.endpoints ?? []) {
          const address = ep.addresses?.[0];
          if (address === undefined || isIP(address) === 0) continue;
          const service = key;
          const ref = ep.targetRef;
          if (ref === undefined || ref.kind !== 'Pod' || ref.name === undefined) {
            skipped.push({ service, address, reason: 'no pod reference' });
            continue;
          }
          const pod = pods.get(`${ref.namespace ?? namespace}/${ref.name}`);
          if (pod === undefined) {
            skipped.push({ service, address, reason: 'pod unknown' });
            continue;
          }
          if (!isMeshedPod(pod)) {
            skipped.push({ service, address, reason: 'pod not meshed' });
            continue;
          }
          anyMeshedPod = true;
          if (ep.conditions?.terminating === true) {
            skipped.push({ service, address, reason: 'terminating' });
            continue;
          }
          if (ep.conditions?.ready === false && spec.publishNotReadyAddresses !== true) {
            skipped.push({ service, address, reason: 'not ready' });
            continue;
          }
          let port = slicePort.port ?? undefined;
          if (port === undefined) port = typeof sp.targetPort === 'string' ? containerPort(pod, sp.targetPort) : (sp.targetPort ?? sp.port);
          if (port === undefined) {
            skipped.push({ service, address, reason: 'named port not found' });
            continue;
          }
          const podNs = pod.metadata!.namespace!;
          const sa = (pod as PodShape).spec?.serviceAccountName || 'default';
          endpoints.set(`${address}|${port}`, { address, port, identity: kubernetesSpiffeId(input.trustDomain, podNs, sa), pod: `${podNs}/${pod.metadata!.name!}` });
        }
      }
      const sorted = [...endpoints.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
      for (const over of sorted.slice(MAX_ENDPOINTS_PER_PORT)) skipped.push({ service: key, address: over.address, reason: 'over limit' });
      ports.push({ name: portName, port: sp.port, endpoints: sorted.slice(0, MAX_ENDPOINTS_PER_PORT) });
    }
    if ((!meshedNamespaces.has(namespace) && !anyMeshedPod) || ports.length === 0) continue;
    leftOut.push(...skipped);
    ports.sort((a, b) => a.port - b.port);
    services.set(key, Object.freeze({ name, namespace, ports, version: hash({ name, namespace, ports }) }));
  }
  return { services, leftOut };
}
