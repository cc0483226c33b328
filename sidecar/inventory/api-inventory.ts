import { routeTemplate } from '../../core/http/route-template.ts';
import type { CounterChild, Registry } from '../../core/telemetry/metrics.ts';
import type { BodyFraming, RequestInfo, RequestObserver, RequestOutcome, RequestScope, ResponseBodyTap } from '../telemetry/request-observer.ts';
import { DeclaredApi, type DeclaredRoute } from './declared-routes.ts';
import { DEFAULT_SNIFF_MAX_BYTES, type JsonFieldSniff, type JsonType } from './json-fields.ts';
import { JsonResponseSniff, type SniffSink } from './json-response-sniff.ts';
import type { JsonTopLevelScanner, ScanResult } from './json-top-level-scanner.ts';
import { sensitiveFieldKind, sensitiveFields } from './sensitive-fields.ts';

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
  /** Sniffing of JSON response bodies for their top-level fields (on by default). */
  readonly responseFields?: ResponseFieldsOptions;
  /** For `ztmesh_inventory_json_sniffs_total{result}`; absent: not exported. */
  readonly registry?: Registry;
  readonly now?: () => number;
}

/**
 * Which JSON responses are sniffed: every one of a route until its field set is known (at most
 * LEARNING_SNIFFS tries), then 1 in `sampleOneIn`; at most `maxBytes` of each body are read.
 */
export interface ResponseFieldsOptions {
  readonly enabled: boolean;
  readonly sampleOneIn: number;
  readonly maxBytes: number;
}

export const DEFAULT_RESPONSE_FIELDS: ResponseFieldsOptions = Object.freeze({ enabled: true, sampleOneIn: 100, maxBytes: DEFAULT_SNIFF_MAX_BYTES });
/** Tries per route before a route whose bodies never yield fields falls back to sampling. */
const LEARNING_SNIFFS = 4;
const SNIFF_RESULTS: readonly ScanResult[] = ['fields', 'partial', 'malformed', 'truncated', 'not-object'];

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
  /** Sniffed JSON bodies that were malformed or ended inside the JSON value. */
  readonly malformedBodies: number;
  readonly sensitive: string[];
  /** Callers that received a successful JSON response of this route while it was known to carry sensitive fields. */
  readonly sensitiveCallers: string[];
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
  /** The last raw request Content-Type recorded (a repeat costs one string compare). */
  lastRequestType = '';
  /** Response facts: the last raw Content-Type seen and what it meant (one string compare per response). */
  lastResponseType = '';
  lastResponseJson = false;
  /** Successful JSON responses counted for sampling; sniffs started; a sniff yielded fields. */
  jsonResponses = 0;
  sniffs = 0;
  fieldsKnown = false;
  /** A response field name looks sensitive: callers of successful JSON responses are remembered. */
  hasSensitive = false;
  readonly sensitiveCallers = new Set<string>();

  constructor(method: string, route: string, now: number) {
    this.method = method;
    this.route = route;
    this.firstSeen = now;
    this.lastSeen = now;
  }
}

class InventoryScope implements RequestScope, SniffSink {
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

  response(status: number, contentType: string | undefined, contentEncoded: boolean, framing: BodyFraming): ResponseBodyTap | undefined {
    return this.#inventory.responseStarted(this.#entry, this.#caller, this, status, contentType, contentEncoded, framing);
  }

  sniffed(scanner: JsonTopLevelScanner, result: ScanResult, caller: string): void {
    this.#inventory.sniffed(this.#entry, scanner.fields, result, caller);
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
  readonly #sniff: ResponseFieldsOptions;
  readonly #sniffResults: Record<ScanResult, CounterChild | undefined>;
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
    this.#sniff = options.responseFields ?? DEFAULT_RESPONSE_FIELDS;
    const sniffs = options.registry?.counter({
      name: 'ztmesh_inventory_json_sniffs_total',
      help: 'Sampled JSON response bodies read for their top-level fields, by result (fields, partial: byte budget reached, malformed, truncated, not-object).',
      labelNames: ['result'],
      maxSeries: SNIFF_RESULTS.length,
    });
    this.#sniffResults = Object.fromEntries(SNIFF_RESULTS.map((r) => [r, sniffs?.labels(r)])) as Record<ScanResult, CounterChild | undefined>;
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
    if (contentType !== undefined && contentType !== entry.lastRequestType) {
      entry.lastRequestType = contentType;
      addCapped(entry.requestContentTypes, mediaType(contentType), this.#maxContentTypes);
    }
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
   * @internal The response head of a request on `entry` (InventoryScope.response): records the
   * content type (a string compare, a set insert when new) and the caller of a route known to
   * return sensitive fields; for a sampled 2xx JSON body that is not content-encoded, returns the
   * tap that sniffs its top-level fields.
   */
  responseStarted(entry: RouteEntry, caller: string, sink: SniffSink, status: number, contentType: string | undefined, encoded: boolean, framing: BodyFraming): ResponseBodyTap | undefined {
    if (contentType === undefined) return undefined;
    if (contentType !== entry.lastResponseType) {
      const media = mediaType(contentType);
      entry.lastResponseType = contentType;
      entry.lastResponseJson = media === 'application/json' || media.endsWith('+json');
      addCapped(entry.responseContentTypes, media, this.#maxContentTypes);
    }
    if (!entry.lastResponseJson || status < 200 || status > 299) return undefined;
    if (entry.hasSensitive) addCapped(entry.sensitiveCallers, caller, this.#maxCallers);
    const sniff = this.#sniff;
    if (!sniff.enabled || encoded || framing === 'none') return undefined;
    const n = entry.jsonResponses++;
    const learning = !entry.fieldsKnown && entry.sniffs < LEARNING_SNIFFS;
    if (!learning && n % sniff.sampleOneIn !== 0) return undefined;
    entry.sniffs++;
    return new JsonResponseSniff(sink, caller, framing === 'chunked', sniff.maxBytes, this.#maxFields);
  }

  /** @internal A sniff of a response on `entry` ended (JsonResponseSniff through the scope). */
  sniffed(entry: RouteEntry, fields: ReadonlyMap<string, JsonType>, result: ScanResult, caller: string): void {
    this.#sniffResults[result]?.inc();
    if (result === 'malformed' || result === 'truncated') {
      entry.malformedBodies++;
      return;
    }
    if (result === 'not-object') return;
    entry.fieldsKnown = true;
    this.#mergeFields(entry, fields);
    if (entry.hasSensitive) addCapped(entry.sensitiveCallers, caller, this.#maxCallers);
  }

  #mergeFields(entry: RouteEntry, fields: ReadonlyMap<string, JsonType>): void {
    for (const [name, type] of fields) {
      if (entry.responseFields.size >= this.#maxFields && !entry.responseFields.has(name)) break;
      entry.responseFields.set(name, type);
      if (!entry.hasSensitive && sensitiveFieldKind(name) !== undefined) entry.hasSensitive = true;
    }
  }

  /**
   * Response facts from elsewhere than the data plane's body tap (tests, offline tools): the
   * response content type and, for JSON bodies, the sniffed top-level fields (sniffJsonFields).
   * Never creates a route.
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
    entry.fieldsKnown = true;
    this.#mergeFields(entry, fields.fields);
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
          sensitiveCallers: [...e.sensitiveCallers].sort(),
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
