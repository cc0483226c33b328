import type { Registry } from '../../core/telemetry/metrics.ts';
import type { ApiInventory } from './api-inventory.ts';

/**
 * Conformance of observed traffic to the workload's declared API, as Prometheus gauges refreshed
 * at each scrape from the inventory: shadow routes (observed, not declared) and zombie routes
 * (declared, never called). Registered only when an API is declared.
 */
export function registerConformanceMetrics(registry: Registry, inventory: ApiInventory): void {
  const shadow = registry.gauge({
    name: 'ztmesh_inventory_shadow_routes',
    help: 'Observed routes (method and route template) that the workload\'s declared API does not have.',
    labelNames: ['service'],
  }).labels(inventory.service);
  const zombie = registry.gauge({
    name: 'ztmesh_inventory_zombie_routes',
    help: 'Routes of the workload\'s declared API never called since the sidecar started.',
    labelNames: ['service'],
  }).labels(inventory.service);
  registry.collect(() => {
    const snap = inventory.snapshot();
    let undeclared = 0;
    for (const api of snap.apis) if (!api.declared) undeclared++;
    shadow.set(undeclared);
    zombie.set(snap.zombies.length);
  });
}
