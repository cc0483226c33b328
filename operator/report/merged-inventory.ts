import type { ObservedInventory } from '../../dashboard/sidecar-reading.ts';

/** One pod's inventory, as its sidecar reported it. */
export interface InventoryReport {
  /** The pod, NAMESPACE/NAME (authenticated by the operator). */
  readonly workload: string;
  readonly inventory: ObservedInventory;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Lists merged across pods stay bounded (callers, content types, unknown array fields). */
export const MAX_MERGED_LIST = 1000;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(v: Json): Json {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

function keyOf(x: Json): string {
  return typeof x === 'string' ? `s${x}` : JSON.stringify(x);
}

/**
 * Merges `source` into `target` (which the caller owns and which may be changed and returned;
 * `source` is never changed, what is taken from it is copied). See mergeJson for the rules.
 */
function mergeInto(target: Json | undefined, source: Json | undefined): Json {
  if (target === undefined) return source === undefined ? null : own(source);
  if (source === undefined) return target;
  if (typeof target === 'number' && typeof source === 'number') return target + source;
  if (typeof target === 'boolean' && typeof source === 'boolean') return target || source;
  if (typeof target === 'string' && typeof source === 'string') return target >= source ? target : source;
  if (Array.isArray(target) && Array.isArray(source)) {
    if (target.length >= MAX_MERGED_LIST) return target;
    const seen = new Set(target.map(keyOf));
    for (const x of source) {
      if (target.length >= MAX_MERGED_LIST) break;
      const key = keyOf(x);
      if (!seen.has(key)) {
        seen.add(key);
        target.push(own(x));
      }
    }
    return target;
  }
  if (isObject(target) && isObject(source)) {
    for (const k in source) target[k] = mergeInto(target[k], source[k]);
    return target;
  }
  return target;
}

/**
 * Merges two values of the same field from two pods of one service, generically, so fields a
 * newer sidecar adds are carried through: numbers add up (counts), booleans OR, lists are united
 * (deduplicated, at most MAX_MERGED_LIST), objects merge key by key, differing strings keep the
 * greater (ISO times: the later); values of different kinds keep the first. Neither is changed.
 */
export function mergeJson(a: Json | undefined, b: Json | undefined): Json {
  return mergeInto(a === undefined ? undefined : own(a), b);
}

/** Merges one pod's API row into the merged row `row` (owned, changed in place). */
function mergeApi(row: JsonObject, b: JsonObject): void {
  const { service, method, route, firstSeen } = row;
  // Callers cut by the list cap are still counted.
  const callers = new Set([...(row['callers'] as string[]), ...(b['callers'] as string[])]).size;
  mergeInto(row, b);
  // Identity of the row, not quantities.
  row['service'] = service!;
  row['method'] = method!;
  row['route'] = route!;
  // The earliest first sighting.
  const fb = b['firstSeen'];
  if (typeof firstSeen === 'string' && typeof fb === 'string') row['firstSeen'] = firstSeen <= fb ? firstSeen : fb;
  const kept = (row['callers'] as string[]).length;
  if (typeof row['callersOverflow'] === 'number' && callers > kept) row['callersOverflow'] += callers - kept;
}

/**
 * The mesh's inventory from every pod's report, in the same JSON shape as a sidecar's
 * `/inventory` (so `ztmesh inventory --from OPERATOR` reads it): `service` is `*` and each API and
 * zombie names its own service; the APIs of several pods of one service (replicas) are merged row
 * by row (counts and status classes add up, callers and content types are united, first seen is
 * the earliest, last seen the latest, any further field merged generically); a zombie is a route
 * declared by some replica and called through none. `sources` says which pod reported which service.
 */
export function mergeInventories(reports: readonly InventoryReport[], now: number): Record<string, unknown> {
  const rows = new Map<string, JsonObject>();
  const zombies = new Map<string, { service: string; method: string; route: string }>();
  let overflow = 0;
  let maxRoutes = 0;
  for (const { inventory } of reports) {
    overflow += inventory.overflow;
    maxRoutes = Math.max(maxRoutes, inventory.maxRoutes);
    for (const api of inventory.apis as unknown as JsonObject[]) {
      const key = JSON.stringify([api['service'], api['method'], api['route']]);
      const seen = rows.get(key);
      if (seen === undefined) rows.set(key, structuredClone(api));
      else mergeApi(seen, api);
    }
    for (const z of inventory.zombies) {
      zombies.set(JSON.stringify([inventory.service, z.method, z.route]), { service: inventory.service, method: z.method, route: z.route });
    }
  }
  for (const key of rows.keys()) zombies.delete(key);
  const byName = (a: { service: unknown; route: unknown; method: unknown }, b: typeof a): number =>
    String(a.service).localeCompare(String(b.service)) || String(a.route).localeCompare(String(b.route)) || String(a.method).localeCompare(String(b.method));
  return {
    service: '*',
    generatedAt: new Date(now).toISOString(),
    maxRoutes,
    overflow,
    apis: [...rows.values()].sort((a, b) => byName(a as never, b as never)),
    zombies: [...zombies.values()].sort(byName),
    sources: reports.map((r) => ({ workload: r.workload, service: r.inventory.service, routes: r.inventory.apis.length, overflow: r.inventory.overflow })),
  };
}
