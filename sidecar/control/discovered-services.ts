import { errorCode } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, Gauge, Registry } from '../../core/telemetry/metrics.ts';
import type { DiscoveredServiceMessage, ServiceDiscoveryMessage } from '../../operator/distribute/distribution-proto.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { checkDiscovery, discoveryRoutes, sameTarget } from './discovery-routes.ts';

/** What discovery drives: the outbound server's runtime service updates. */
export interface ServiceUpdater {
  updateService(name: string, target: ServiceTarget): void;
}

export interface DiscoveredServicesOptions {
  readonly namespace: string;
  readonly trustDomain: string;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/**
 * The services the operator pushed to this sidecar, turned into outbound routes and applied
 * through `updateService`, route by route and only where something changed: an identical
 * endpoint set causes no call at all (no pool touched, no connection reset), a changed one keeps
 * the connections of the endpoints still present, a removed service keeps its route with no
 * endpoints (a prompt 503 ZTMESH_BALANCE_NO_ENDPOINTS). Updates that arrive before the outbound
 * server exists are applied when it is attached.
 */
export class DiscoveredServices {
  readonly #o: DiscoveredServicesOptions;
  readonly #log: Logger;
  readonly #updates: Counter;
  readonly #routesGauge: Gauge;
  #services = new Map<string, DiscoveredServiceMessage>();
  /** Routes as last given to the outbound server (or to be given when it is attached). */
  #applied = new Map<string, ServiceTarget>();
  #outbound: ServiceUpdater | undefined = undefined;
  #version: string | undefined = undefined;

  constructor(options: DiscoveredServicesOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'discovery' });
    this.#updates = options.metrics.counter({ name: 'ztmesh_sidecar_discovery_updates_total', help: 'Endpoint discovery updates from the operator, by result (applied, rejected).', labelNames: ['result'] });
    this.#routesGauge = options.metrics.gauge({ name: 'ztmesh_sidecar_discovered_routes', help: 'Outbound routes (service name and port) learnt from endpoint discovery.' });
  }

  /** The discovery version in force, undefined before the first update. */
  get version(): string | undefined {
    return this.#version;
  }

  /** The routes in force, by name (for the admin view and tests). */
  routes(): ReadonlyMap<string, ServiceTarget> {
    return this.#applied;
  }

  /** Applies one pushed update; throws ZTMESH_CONTROL_DISCOVERY_REJECTED (and changes nothing) when it is invalid. */
  apply(message: ServiceDiscoveryMessage): void {
    let checked;
    try {
      checked = checkDiscovery(message, this.#o.trustDomain);
    } catch (err) {
      this.#updates.labels('rejected').inc();
      throw err;
    }
    const next = checked.full ? new Map<string, DiscoveredServiceMessage>() : new Map(this.#services);
    for (const key of checked.removed) next.delete(key);
    for (const [key, svc] of checked.upserts) next.set(key, svc);
    const { routes, mixed } = discoveryRoutes(next, this.#o.namespace, (name) => this.#applied.get(name)?.identity);
    const changed: ServiceTarget[] = [];
    for (const [name, target] of routes) {
      const before = this.#applied.get(name);
      if (before === undefined || !sameTarget(before, target)) changed.push(target);
    }
    for (const [name, before] of this.#applied) {
      // Gone from discovery: the route stays, empty (the outbound server keeps its entry anyway).
      if (!routes.has(name) && before.endpoints.length > 0) changed.push({ ...before, endpoints: [] });
    }
    for (const m of mixed) {
      this.#log.warn({ code: 'ZTMESH_CONTROL_DISCOVERY_MIXED_IDENTITIES', route: m.route, identity: m.identity, leftOut: m.leftOut.slice(0, 20) }, 'endpoints under other service accounts left out of the route');
    }
    this.#services = next;
    for (const t of changed) this.#applied.set(t.name, t);
    this.#version = checked.version;
    this.#updates.labels('applied').inc();
    this.#routesGauge.set(this.#applied.size);
    if (this.#outbound !== undefined) this.#push(changed);
    if (changed.length > 0) {
      this.#log.info({ version: checked.version, changed: changed.slice(0, 50).map((t) => `${t.name}=${t.endpoints.length}`), routes: this.#applied.size }, 'discovered services updated');
    }
  }

  /** From now on, updates go to `outbound`; what was received before is applied at once. */
  attach(outbound: ServiceUpdater): void {
    this.#outbound = outbound;
    this.#push([...this.#applied.values()]);
  }

  #push(targets: readonly ServiceTarget[]): void {
    for (const t of targets) {
      try {
        this.#outbound!.updateService(t.name, t);
      } catch (err) {
        this.#log.error({ code: errorCode(err), route: t.name, err: { message: err instanceof Error ? err.message : String(err) } }, 'could not apply a discovered service');
      }
    }
  }
}
