import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { HostPort } from '../config/host-port.ts';
import type { BalancedPool } from '../balance/balanced-pool.ts';
import type { BalancerKind } from '../balance/endpoint-picker.ts';

/** A destination the local app may call, and the identity its sidecar must prove. */
export interface ServiceTarget {
  readonly name: string;
  readonly identity: SpiffeId;
  readonly endpoints: readonly HostPort[];
  readonly protocol: 'http' | 'tcp';
  /** tcp only: the local listener the app connects to. */
  readonly listen?: HostPort;
  /** tcp only: the destination app port on the remote side. */
  readonly port?: number;
  /** How requests (tcp: connections) are spread over the endpoints (default p2c-ewma). */
  readonly balancer?: BalancerKind;
}

/** One HTTP/1.1 service: its current target and its endpoints behind one balanced pool. */
export class ServiceEntry {
  target: ServiceTarget;
  readonly pool: BalancedPool;

  constructor(target: ServiceTarget, pool: BalancedPool) {
    this.target = target;
    this.pool = pool;
  }
}

const CLUSTER_SUFFIXES = ['.svc.cluster.local', '.svc'];

/** Strips a port from an authority (`orders:8080`, `[::1]:80`), lowercased. */
export function authorityHost(authority: string): string {
  const a = authority.toLowerCase();
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    return close === -1 ? a : a.slice(0, close + 1);
  }
  const colon = a.lastIndexOf(':');
  return colon === -1 ? a : a.slice(0, colon);
}

/**
 * Looks a service up by the host of an authority: the exact name, else the Kubernetes forms
 * `name.ns.svc.cluster.local`, `name.ns.svc` and `name.ns` reduced to `name.ns` then `name`.
 */
export function lookupService<T>(services: ReadonlyMap<string, T>, host: string): T | undefined {
  const exact = services.get(host);
  if (exact !== undefined) return exact;
  let h = host.endsWith('.') ? host.slice(0, -1) : host;
  for (const suffix of CLUSTER_SUFFIXES) {
    if (h.endsWith(suffix)) {
      h = h.slice(0, -suffix.length);
      break;
    }
  }
  const byNs = services.get(h);
  if (byNs !== undefined) return byNs;
  const dot = h.indexOf('.');
  return dot === -1 ? undefined : services.get(h.slice(0, dot));
}
