import { routeTemplate } from '../../core/http/route-template.ts';
import type { RequestInfo, RequestObserver, RequestOutcome, RequestScope } from '../telemetry/request-observer.ts';
import { DeclaredApi, type DeclaredRoute } from './declared-routes.ts';
import type { JsonFieldSniff, JsonType } from './json-fields.ts';
import { sensitiveFields } from './sensitive-fields.ts';

export interface InventoryOptions {
  /** The service this sidecar serves, as the inventory names it. */
  readonly service: string;
  /** Cap on distinct (method, route template) entries; past it new routes are only counted (`overflow`). */
  readonly maxRoutes?: number;
  /** Cap on distinct callers remembered per route (the rest are counted in `callersOverflow`). */
  readonly maxCallersPerRoute?: number;
  /** Cap on distinct request/response content types and on response field names per route. */
  readonly maxContentTypes?: number;
  readonly maxResponseFields?: number;
  /** The workload's declared API (from its OpenAPI document), for the shadow/zombie report. */
  readonly declared?: readonly DeclaredRoute[];
  readonly now?: () => number;
}

export interface InventoryApi {
  readonly service: string;
  readonly method: string;
  readonly route: string;
  readonly callers: string[];
  readonly callersOverflow: number;
  readonly count: number;
  readonly statusClasses: Record<string, number>;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly requestContentTypes: string[];
  readonly responseContentTypes: string[];
  readonly responseFields: Record<string, JsonType>;
  readonly malformedBodies: number;
  readonly sensitive: string[];
  readonly declared: boolean;
}

/** What `/inventory` on a sidecar's admin port answers. */
export interface InventorySnapshot {
  readonly service: string;
  readonly generatedAt: string;
  readonly maxRoutes: number;
  /** Requests to routes not recorded because the route cap was reached. */
  readonly overflow: number;
  readonly apis: InventoryApi[];
  /** Declared routes never called. */
  readonly zombies: DeclaredRoute[];
}

const UNKNOWN_CALLER = 'unknown';
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

class RouteEntry {
  readonly method: string;
  readonly route: string;
  readonly callers = new Set<string>();
  callersOverflow = 0;
  count = 0;
  readonly statusCounts = [0, 0, 0, 0, 0];
  readonly firstSeen: number;
  lastSeen: number;
  readonly requestContentTypes = new Set<string>();
  readonly responseContentTypes = new Set<string>();
  readonly responseFields = new Map<string, JsonType>();
  malformedBodies = 0;

  constructor(method: string, route: string, now: number) {
    this.method = method;
    this.route = route;
    this.firstSeen = now;
    this.lastSeen = now;
  }
}

class InventoryScope implements RequestScope {
  readonly forwardHeaders = '';
  readonly traceId = undefined;
  readonly #inventory: ApiInventory;
  readonly #entry: RouteEntry;
  readonly #caller: string;
  #ended = false;

  constructor(inventory: ApiInventory, entry: RouteEntry, caller: string) {
    this.#inventory = inventory;
    this.#entry = entry;
    this.#caller = caller;
  }

  end(outcome: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#inventory.complete(this.#entry, this.#caller, outcome.status);
  }
}

const NO_SCOPE: RequestScope = Object.freeze({ forwardHeaders: '', traceId: undefined, end() {} });

function addCapped(set: Set<string>, value: string, cap: number): boolean {
  if (set.has(value)) return true;
  if (set.size >= cap) return false;
  set.add(value);
  return true;
}

/**
 * The sidecar's inventory of the APIs it serves, built from inbound traffic: per (method, route
 * template) its callers, count, status classes, first/last seen, content types and — when the data
 * plane reports them — response field names. A RequestObserver: per request, one template scan,
 * one map lookup, one scope object; memory is bounded by the caps in InventoryOptions.
 */
export class ApiInventory implements RequestObserver {
  readonly service: string;
  readonly maxRoutes: number;
  readonly #maxCallers: number;
  readonly #maxContentTypes: number;
  readonly #maxFields: number;
  readonly #declared: DeclaredApi;
  readonly #now: () => number;
  /** template -> method -> entry */
  readonly #routes = new Map<string, Map<string, RouteEntry>>();
  #size = 0;
  #overflow = 0;

  constructor(options: InventoryOptions) {
    this.service = options.service;
    this.maxRoutes = options.maxRoutes ?? 500;
    this.#maxCallers = options.maxCallersPerRoute ?? 100;
    this.#maxContentTypes = options.maxContentTypes ?? 8;
    this.#maxFields = options.maxResponseFields ?? 64;
    this.#declared = new DeclaredApi(options.declared ?? []);
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#size;
  }

  get overflow(): number {
    return this.#overflow;
  }

  start(info: RequestInfo): RequestScope {
    if (info.direction !== 'inbound') return NO_SCOPE;
    const entry = this.#entryFor(info.method, info.path);
    if (entry === undefined) return NO_SCOPE;
    const contentType = info.header('content-type');
    if (contentType !== undefined) addCapped(entry.requestContentTypes, mediaType(contentType), this.#maxContentTypes);
    return new InventoryScope(this, entry, info.sourcePrincipal ?? UNKNOWN_CALLER);
  }

  /** @internal called by the request's scope when the response is complete. */
  complete(entry: RouteEntry, caller: string, status: number): void {
    entry.count++;
    entry.lastSeen = this.#now();
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) entry.statusCounts[cls - 1]!++;
    if (!addCapped(entry.callers, caller, this.#maxCallers)) entry.callersOverflow++;
  }

  /**
   * Response facts the data plane can add once it reads them: the response content type and, for
   * JSON bodies, the sniffed top-level field names (sniffJsonFields). Never creates a route.
   */
  recordResponse(method: string, path: string, contentType: string | undefined, fields: JsonFieldSniff | undefined): void {
    const entry = (this.#routes.get(path) ?? this.#routes.get(routeTemplate(path)))?.get(method);
    if (entry === undefined) return;
    if (contentType !== undefined) addCapped(entry.responseContentTypes, mediaType(contentType), this.#maxContentTypes);
    if (fields === undefined) return;
    if (!fields.ok) {
      if (fields.reason === 'malformed') entry.malformedBodies++;
      return;
    }
    for (const [name, type] of fields.fields) {
      if (entry.responseFields.size >= this.#maxFields && !entry.responseFields.has(name)) break;
      entry.responseFields.set(name, type);
    }
  }

  #entryFor(method: string, path: string): RouteEntry | undefined {
    // A path without identifiers is its own template (routeTemplate is idempotent): one lookup.
    let byMethod = this.#routes.get(path);
    const route = byMethod === undefined ? routeTemplate(path) : path;
    if (byMethod === undefined && route !== path) byMethod = this.#routes.get(route);
    const found = byMethod?.get(method);
    if (found !== undefined) return found;
    if (this.#size >= this.maxRoutes) {
      this.#overflow++;
      return undefined;
    }
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#routes.set(route, byMethod);
    }
    const entry = new RouteEntry(method, route, this.#now());
    byMethod.set(method, entry);
    this.#size++;
    return entry;
  }

  snapshot(): InventorySnapshot {
    const apis: InventoryApi[] = [];
    const called = new Set<string>();
    for (const byMethod of this.#routes.values()) {
      for (const e of byMethod.values()) {
        if (e.count === 0) continue;
        const declared = this.#declared.match(e.method, e.route);
        if (declared !== undefined) called.add(`${declared.method} ${declared.route}`);
        const statusClasses: Record<string, number> = {};
        e.statusCounts.forEach((n, i) => {
          if (n > 0) statusClasses[STATUS_CLASSES[i]!] = n;
        });
        apis.push({
          service: this.service,
          method: e.method,
          route: e.route,
          callers: [...e.callers].sort(),
          callersOverflow: e.callersOverflow,
          count: e.count,
          statusClasses,
          firstSeen: new Date(e.firstSeen).toISOString(),
          lastSeen: new Date(e.lastSeen).toISOString(),
          requestContentTypes: [...e.requestContentTypes].sort(),
          responseContentTypes: [...e.responseContentTypes].sort(),
          responseFields: Object.fromEntries([...e.responseFields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
          malformedBodies: e.malformedBodies,
          sensitive: sensitiveFields(e.responseFields.keys()),
          declared: declared !== undefined,
        });
      }
    }
    apis.sort((a, b) => (a.route === b.route ? (a.method < b.method ? -1 : 1) : a.route < b.route ? -1 : 1));
    const zombies = this.#declared.routes.filter((r) => !called.has(`${r.method} ${r.route}`));
    return { service: this.service, generatedAt: new Date(this.#now()).toISOString(), maxRoutes: this.maxRoutes, overflow: this.#overflow, apis, zombies };
  }
}

/** `application/json; charset=utf-8` -> `application/json` (bounded: media types only, lowercased). */
function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase().slice(0, 100);
}
