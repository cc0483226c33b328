import { createHash } from 'node:crypto';
import type { CatalogService } from '../reconcile/service-discovery.ts';
import type { DiscoveredServiceMessage, ServiceDiscoveryMessage } from './distribution-proto.ts';

/** Discovery versions carry this prefix, so their ACKs are never mistaken for a policy version's. */
export const DISCOVERY_VERSION_PREFIX = 'd-';
/** Default minimum time between two discovery pushes to one sidecar (changes in between are coalesced). */
export const DEFAULT_DISCOVERY_INTERVAL_MS = 100;

export interface DiscoveryStreamOptions {
  /** Writes one discovery update to the sidecar (the server wraps it in a PolicySnapshot). */
  readonly send: (discovery: ServiceDiscoveryMessage) => void;
  readonly minIntervalMs?: number;
  readonly clock?: () => number;
}

function toMessage(s: CatalogService): DiscoveredServiceMessage {
  return {
    name: s.name,
    namespace: s.namespace,
    ports: s.ports.map((p) => ({ name: p.name, port: p.port, endpoints: p.endpoints.map((e) => ({ address: e.address, port: e.port, identity: e.identity, pod: e.pod })) })),
  };
}

/** The version of a whole service set: a hash of its (key, service version) pairs. */
export function discoveryVersion(services: ReadonlyMap<string, CatalogService>): string {
  const pairs = [...services].map(([k, s]) => `${k}=${s.version}`).sort();
  return DISCOVERY_VERSION_PREFIX + createHash('sha256').update(pairs.join('\n')).digest('hex').slice(0, 16);
}

/**
 * One sidecar's endpoint discovery on its subscription stream: the first push is the whole set,
 * then only the services whose version changed and the names removed. Pushes are at least
 * `minIntervalMs` apart: a burst of changes (a flapping endpoint set, a rollout) becomes one push
 * carrying the latest state. A NACK makes the next push whole again.
 */
export class DiscoveryStream {
  readonly #o: DiscoveryStreamOptions;
  readonly #minIntervalMs: number;
  readonly #clock: () => number;
  /** Service versions the sidecar holds after our last push. */
  #sent = new Map<string, string>();
  #wanted: ReadonlyMap<string, CatalogService> | undefined = undefined;
  #full = true;
  #lastSendAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined = undefined;
  #closed = false;
  sentVersion: string | undefined = undefined;
  ackedVersion: string | undefined = undefined;
  rejected: { readonly version: string; readonly reason: string } | undefined = undefined;
  pushes = 0;

  constructor(options: DiscoveryStreamOptions) {
    this.#o = options;
    this.#minIntervalMs = options.minIntervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    this.#clock = options.clock ?? Date.now;
  }

  /** The services this sidecar should now have; pushed (coalesced) when they differ from what it has. */
  offer(wanted: ReadonlyMap<string, CatalogService>): void {
    this.#wanted = wanted;
    if (this.#timer !== undefined || this.#closed) return;
    const delay = Math.max(0, this.#lastSendAt + this.#minIntervalMs - this.#clock());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, delay);
    this.#timer.unref();
  }

  /** An ACK or NACK for a discovery version. */
  ack(version: string, accepted: boolean, reason: string): void {
    if (accepted) {
      this.ackedVersion = version;
      if (this.rejected?.version === version) this.rejected = undefined;
      return;
    }
    this.rejected = { version, reason: reason.slice(0, 1024) };
    // What the sidecar holds is no longer known: the next change goes out whole.
    this.#full = true;
    this.#sent = new Map();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    const wanted = this.#wanted;
    if (wanted === undefined || this.#closed) return;
    const services: DiscoveredServiceMessage[] = [];
    for (const key of [...wanted.keys()].sort()) {
      const svc = wanted.get(key)!;
      if (this.#full || this.#sent.get(key) !== svc.version) services.push(toMessage(svc));
    }
    const removed = this.#full ? [] : [...this.#sent.keys()].filter((k) => !wanted.has(k)).sort();
    if (!this.#full && services.length === 0 && removed.length === 0) return;
    const version = discoveryVersion(wanted);
    const full = this.#full;
    this.#sent = new Map([...wanted].map(([k, s]) => [k, s.version]));
    this.#full = false;
    this.#lastSendAt = this.#clock();
    this.sentVersion = version;
    this.pushes++;
    this.#o.send({ version, full, services, removed });
  }
}
