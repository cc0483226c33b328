import type { CatalogService, DiscoveryCatalog } from './service-discovery.ts';

/** Pod annotation listing the Services its sidecar gets (`name` in the pod's namespace, or `name.namespace`). */
export const OUTBOUND_SERVICES_ANNOTATION = 'ztmesh.io/outbound-services';
/** A sidecar gets at most this many Services (sorted by NAME.NAMESPACE; the rest are left out and logged). */
export const MAX_SERVICES_PER_SIDECAR = 2000;
const MAX_LISTED = 1000;
const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** How a Service is keyed in the catalog and on the wire: "NAME.NAMESPACE". */
export function serviceKey(name: string, namespace: string): string {
  return `${name}.${namespace}`;
}

/** What a pod's annotation asks for: undefined keys mean "every meshed Service". */
export interface OutboundSelection {
  readonly keys: readonly string[] | undefined;
  /** Entries that name nothing valid, each with the reason (logged by the control loop). */
  readonly problems: readonly string[];
}

/** Reads `ztmesh.io/outbound-services` ("orders, payments.bank"): comma or space separated. */
export function parseOutboundServices(value: string | undefined, podNamespace: string): OutboundSelection {
  if (value === undefined) return { keys: undefined, problems: [] };
  const keys = new Set<string>();
  const problems: string[] = [];
  const entries = value.split(/[\s,]+/).filter((e) => e !== '');
  if (entries.length > MAX_LISTED) problems.push(`${OUTBOUND_SERVICES_ANNOTATION}: ${entries.length} entries, only the first ${MAX_LISTED} are read`);
  for (const entry of entries.slice(0, MAX_LISTED)) {
    const [name, ns, ...rest] = entry.split('.');
    if (rest.length > 0 || name === undefined || !DNS_LABEL.test(name) || (ns !== undefined && !NAMESPACE.test(ns))) {
      problems.push(`${OUTBOUND_SERVICES_ANNOTATION}: ${JSON.stringify(entry.slice(0, 80))} is not NAME or NAME.NAMESPACE`);
      continue;
    }
    keys.add(serviceKey(name, ns ?? podNamespace));
  }
  return { keys: [...keys].sort(), problems };
}

/**
 * The Services one sidecar gets: those its pod lists in the annotation, else every meshed Service
 * of the mesh (no call graph is declared); at most MAX_SERVICES_PER_SIDECAR, by NAME.NAMESPACE.
 * A listed Service that is not (yet) in the catalog is simply absent.
 */
export function servicesForWorkload(catalog: DiscoveryCatalog, selection: OutboundSelection | undefined): { services: ReadonlyMap<string, CatalogService>; truncated: number } {
  const keys = selection?.keys ?? [...catalog.services.keys()].sort();
  const services = new Map<string, CatalogService>();
  let truncated = 0;
  for (const key of keys) {
    const svc = catalog.services.get(key);
    if (svc === undefined) continue;
    if (services.size >= MAX_SERVICES_PER_SIDECAR) {
      truncated++;
      continue;
    }
    services.set(key, svc);
  }
  return { services, truncated };
}
