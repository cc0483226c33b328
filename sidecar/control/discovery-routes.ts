import { isIP } from 'node:net';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { kubernetesParts, parseSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { DiscoveredServiceMessage, ServiceDiscoveryMessage } from '../../operator/distribute/distribution-proto.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';

const MAX_SERVICES = 5000;
const MAX_PORTS = 100;
const MAX_ENDPOINTS = 1000;
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A pushed discovery update, checked: the services to upsert (keyed NAME.NAMESPACE) and the keys to drop. */
export interface CheckedDiscovery {
  readonly version: string;
  readonly full: boolean;
  readonly upserts: ReadonlyMap<string, DiscoveredServiceMessage>;
  readonly removed: readonly string[];
}

/**
 * Validates a pushed discovery update as the edge it is (the sidecar trusts nothing it receives):
 * names, ports, IP addresses, and identities that are Kubernetes-form SPIFFE IDs of this trust
 * domain. Throws ZTMESH_CONTROL_DISCOVERY_REJECTED listing every problem: the caller NACKs and
 * keeps its previous services.
 */
export function checkDiscovery(message: ServiceDiscoveryMessage, trustDomain: string): CheckedDiscovery {
  const problems: string[] = [];
  if (!message.version.startsWith('d-')) problems.push(`version ${JSON.stringify(message.version.slice(0, 40))} is not a discovery version`);
  if (message.services.length > MAX_SERVICES) problems.push(`${message.services.length} services, at most ${MAX_SERVICES}`);
  const upserts = new Map<string, DiscoveredServiceMessage>();
  message.services.slice(0, MAX_SERVICES).forEach((svc, i) => {
    const where = `services[${i}]`;
    if (!NAME.test(svc.name) || !NAME.test(svc.namespace)) {
      problems.push(`${where}: ${JSON.stringify(`${svc.name}.${svc.namespace}`.slice(0, 130))} is not NAME.NAMESPACE`);
      return;
    }
    if (svc.ports.length > MAX_PORTS) problems.push(`${where}: ${svc.ports.length} ports, at most ${MAX_PORTS}`);
    const seen = new Set<number>();
    svc.ports.forEach((p, j) => {
      const at = `${where}.ports[${j}]`;
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535 || seen.has(p.port)) problems.push(`${at}: port ${p.port} is not a unique 1-65535`);
      seen.add(p.port);
      if (p.endpoints.length > MAX_ENDPOINTS) problems.push(`${at}: ${p.endpoints.length} endpoints, at most ${MAX_ENDPOINTS}`);
      p.endpoints.forEach((e, k) => {
        const ep = `${at}.endpoints[${k}]`;
        if (isIP(e.address) === 0) problems.push(`${ep}: ${JSON.stringify(e.address.slice(0, 60))} is not an IP address`);
        if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) problems.push(`${ep}: port ${e.port} is not 1-65535`);
        try {
          const id = parseSpiffeId(e.identity);
          if (id.trustDomain !== trustDomain || kubernetesParts(id) === undefined) problems.push(`${ep}: identity ${e.identity} is not spiffe://${trustDomain}/ns/<ns>/sa/<sa>`);
        } catch {
          problems.push(`${ep}: identity ${JSON.stringify(e.identity.slice(0, 100))} is not a SPIFFE ID`);
        }
      });
    });
    upserts.set(`${svc.name}.${svc.namespace}`, svc);
  });
  for (const key of message.removed) {
    const [name, ns, ...rest] = key.split('.');
    if (rest.length > 0 || name === undefined || ns === undefined || !NAME.test(name) || !NAME.test(ns)) problems.push(`removed: ${JSON.stringify(key.slice(0, 130))} is not NAME.NAMESPACE`);
  }
  if (problems.length > 0) {
    throw new MeshError('ZTMESH_CONTROL_DISCOVERY_REJECTED', `invalid discovery update ${message.version.slice(0, 40)}: ${problems.slice(0, 20).join('; ')}`, { details: { problems: problems.slice(0, 100) } });
  }
  return { version: message.version, full: message.full, upserts, removed: message.removed };
}

/** Endpoints of one route that were not used because they prove another identity than the route's. */
export interface MixedIdentities {
  readonly route: string;
  readonly identity: SpiffeId;
  readonly leftOut: readonly { readonly endpoint: string; readonly identity: string; readonly pod: string }[];
}

/** The outbound routes of the discovered services, by the names clients dial. */
export interface DiscoveryRoutes {
  readonly routes: ReadonlyMap<string, ServiceTarget>;
  readonly mixed: readonly MixedIdentities[];
}

/**
 * Discovered services → outbound HTTP services keyed by the authority a client uses:
 * `NAME.NAMESPACE:PORT` (the lookup reduces `.svc` and `.svc.cluster.local` to it) and, for the
 * sidecar's own namespace, `NAME:PORT`. A route requires one identity (a pooled connection is
 * checked against exactly one): when a port's endpoints carry several, those of the identity most
 * endpoints have are used (ties: the lowest ID) and the others are reported, never used under a
 * borrowed identity. A port without endpoints keeps its route with the identity it had (the client
 * gets a prompt 503); one that never had an endpoint gets no route.
 */
export function discoveryRoutes(services: ReadonlyMap<string, DiscoveredServiceMessage>, ownNamespace: string, previousIdentity: (route: string) => SpiffeId | undefined): DiscoveryRoutes {
  const routes = new Map<string, ServiceTarget>();
  const mixed: MixedIdentities[] = [];
  for (const svc of services.values()) {
    for (const p of svc.ports) {
      const names = [`${svc.name}.${svc.namespace}:${p.port}`, ...(svc.namespace === ownNamespace ? [`${svc.name}:${p.port}`] : [])];
      const counts = new Map<string, number>();
      for (const e of p.endpoints) counts.set(e.identity, (counts.get(e.identity) ?? 0) + 1);
      let chosen: string | undefined;
      for (const [id, n] of counts) if (chosen === undefined || n > counts.get(chosen)! || (n === counts.get(chosen)! && id < chosen)) chosen = id;
      const used = p.endpoints.filter((e) => e.identity === chosen).map((e) => ({ host: e.address, port: e.port }));
      for (const name of names) {
        const identity = (chosen as SpiffeId | undefined) ?? previousIdentity(name);
        if (identity === undefined) continue;
        routes.set(name, { name, identity, endpoints: used, protocol: 'http', balancer: 'p2c-ewma' });
      }
      if (counts.size > 1) {
        const leftOut = p.endpoints.filter((e) => e.identity !== chosen).map((e) => ({ endpoint: `${e.address}:${e.port}`, identity: e.identity, pod: e.pod }));
        mixed.push({ route: names[0]!, identity: chosen as SpiffeId, leftOut });
      }
    }
  }
  return { routes, mixed };
}

/** Two targets with the same identity and endpoint set (in any order): applying one over the other changes nothing. */
export function sameTarget(a: ServiceTarget, b: ServiceTarget): boolean {
  if (a.identity !== b.identity || a.endpoints.length !== b.endpoints.length) return false;
  const key = (t: ServiceTarget) => t.endpoints.map((e) => `${e.host}|${e.port}`).sort().join(',');
  return key(a) === key(b);
}
