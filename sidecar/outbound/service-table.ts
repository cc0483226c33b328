import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { HostPort } from '../config/host-port.ts';
import type { BalancedPool } from '../balance/balanced-pool.ts';
import type { BalancerKind } from '../balance/endpoint-picker.ts';
import type { ServicePolicy } from '../balance/service-policy.ts';

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
  /** http: the response head is due within this many ms (504 ZTMESH_BALANCE_TIMEOUT); absent: none. */
  readonly timeoutMs?: number;
  /** http: retries after gateway errors or resets before the response head; absent: the defaults. */
  readonly retry?: RetrySettings;
  /** http: per-route overrides by path prefix (longest wins). */
  readonly routes?: readonly ServiceRoute[];
}

/** How a service retries (sidecar config `retry:`). */
export interface RetrySettings {
  /** Further tries after the first for gateway errors and resets (0: none). */
  readonly attempts: number;
  readonly budgetRatio: number;
  readonly minRetriesPerSecond: number;
}

/** A per-route override of a service (sidecar config `routes:`). */
export interface ServiceRoute {
  readonly pathPrefix: string;
  readonly timeoutMs?: number;
  /** Retryable whatever the method. */
  readonly retryable: boolean;
}

/** One HTTP/1.1 service: its current target, its endpoints behind one balanced pool, its timeout and retry policy. */
export class ServiceEntry {
  target: ServiceTarget;
  readonly pool: BalancedPool;
  readonly policy: ServicePolicy;

  constructor(target: ServiceTarget, pool: BalancedPool, policy: ServicePolicy) {
    this.target = target;
    this.pool = pool;
    this.policy = policy;
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

/** The port of an authority (`orders:8080` → 8080), or `fallback` when it names none (80 for http). */
export function authorityPort(authority: string, fallback = 80): number {
  const colon = authority.lastIndexOf(':');
  if (colon === -1 || authority.indexOf(']', colon) !== -1) return fallback;
  const port = Number(authority.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : fallback;
}

/**
 * Looks a service up by the host of an authority: the exact name, else the Kubernetes forms
 * `name.ns.svc.cluster.local`, `name.ns.svc` and `name.ns` reduced to `name.ns` then `name`.
 * With `port`, services learnt by endpoint discovery (keyed `name.ns:port`, and `name:port` for
 * the sidecar's own namespace) are tried first after the exact name, without any reduction of
 * `name.ns` to `name` (that would send a call for another namespace's service to this one's).
 */
export function lookupService<T>(services: ReadonlyMap<string, T>, host: string, port?: number): T | undefined {
  const exact = services.get(host);
  if (exact !== undefined) return exact;
  let h = host.endsWith('.') ? host.slice(0, -1) : host;
  for (const suffix of CLUSTER_SUFFIXES) {
    if (h.endsWith(suffix)) {
      h = h.slice(0, -suffix.length);
      break;
    }
  }
  if (port !== undefined) {
    const discovered = services.get(`${h}:${port}`);
    if (discovered !== undefined) return discovered;
  }
  const byNs = services.get(h);
  if (byNs !== undefined) return byNs;
  const dot = h.indexOf('.');
  return dot === -1 ? undefined : services.get(h.slice(0, dot));
}
