import { MAX_SENT_REPORT_BYTES, type SidecarReportMessage } from '../../operator/distribute/distribution-proto.ts';
import type { InventorySnapshot } from '../inventory/api-inventory.ts';
import type { Credentials } from '../tls/credentials.ts';

/** What a report is built from: the sidecar's own in-memory state (the same its admin port serves). */
export interface ReportParts {
  /** The SVID held (even if expired). */
  readonly identity: () => Credentials | undefined;
  /** The API inventory, when it is on. */
  readonly inventory?: (() => InventorySnapshot) | undefined;
  /** Recent denials, newest first. */
  readonly denials: () => readonly unknown[];
  /** Recent anomalies, newest first, when detection is on. */
  readonly anomalies?: (() => readonly unknown[]) | undefined;
  /** The `ztmesh_requests_total` series in Prometheus text format. */
  readonly requests: () => string;
  readonly now?: () => number;
  /** The size bound of a report (default MAX_SENT_REPORT_BYTES, 512 KiB). */
  readonly maxBytes?: number;
}

/** At most this many denials and anomalies per report (the newest). */
export const REPORT_DENIALS = 100;
export const REPORT_ANOMALIES = 100;

function identityJson(c: Credentials | undefined, now: number): string {
  if (c === undefined) return '';
  return JSON.stringify({
    spiffeId: c.identity,
    serial: c.leaf.serialNumber,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    expired: c.notAfter <= now,
  });
}

/** Whole lines of `text` within `max` bytes. */
function cutLines(text: string, max: number): string {
  let out = '';
  let size = 0;
  for (const line of text.split('\n')) {
    const bytes = Buffer.byteLength(line) + 1;
    if (size + bytes > max) break;
    out += `${line}\n`;
    size += bytes;
  }
  return out;
}

/** The newest entries of `list` (at most `limit`) as JSON within `max` bytes (halving the count until they fit). */
function listJson(list: readonly unknown[], limit: number, max: number, name: string, truncated: string[], wrap: (items: readonly unknown[]) => unknown): string {
  let items = list.slice(0, limit);
  let text = JSON.stringify(wrap(items));
  while (Buffer.byteLength(text) > max && items.length > 0) {
    items = items.slice(0, Math.floor(items.length / 2));
    text = JSON.stringify(wrap(items));
  }
  if (items.length < Math.min(list.length, limit)) truncated.push(name);
  return text;
}

/** The inventory within `max` bytes: the most called APIs first when all of them do not fit. */
function inventoryJson(snapshot: InventorySnapshot, max: number, truncated: string[]): string {
  let text = JSON.stringify(snapshot);
  if (Buffer.byteLength(text) <= max) return text;
  truncated.push('inventory.apis');
  const apis = [...snapshot.apis].sort((a, b) => b.count - a.count);
  for (let keep = Math.floor(apis.length / 2); ; keep = Math.floor(keep / 2)) {
    text = JSON.stringify({ ...snapshot, apis: apis.slice(0, keep), zombies: keep === 0 ? [] : snapshot.zombies });
    if (Buffer.byteLength(text) <= max) return text;
    if (keep === 0) return '';
  }
}

/**
 * Builds the reports a sidecar sends on its subscription stream: identity, recent denials (the
 * newest 100), anomalies (the newest 100), the request series of the service graph, and the API
 * inventory, within a size bound (512 KiB by default): denials, anomalies and request series get
 * at most a quarter of it each (fewer entries, whole lines), and the inventory keeps its most
 * called APIs when it does not fit in what is left. What was cut is named in `truncated`.
 */
export function reportBuilder(parts: ReportParts): () => SidecarReportMessage {
  let sequence = 0;
  const max = parts.maxBytes ?? MAX_SENT_REPORT_BYTES;
  return () => {
    const now = (parts.now ?? Date.now)();
    const truncated: string[] = [];
    const identity = identityJson(parts.identity(), now);
    const decisions = listJson(parts.denials(), REPORT_DENIALS, max / 4, 'decisions.denials', truncated, (denials) => ({ denials, recent: [] }));
    const anomalies = parts.anomalies === undefined ? '' : listJson(parts.anomalies(), REPORT_ANOMALIES, max / 4, 'anomalies', truncated, (a) => a);
    let requests = parts.requests();
    if (Buffer.byteLength(requests) > max / 4) {
      requests = cutLines(requests, max / 4);
      truncated.push('requests');
    }
    const used = Buffer.byteLength(identity) + Buffer.byteLength(decisions) + Buffer.byteLength(anomalies) + Buffer.byteLength(requests);
    const inventory = parts.inventory === undefined ? '' : inventoryJson(parts.inventory(), Math.max(0, max - used), truncated);
    sequence++;
    return { sequence, generatedAt: now, identityJson: identity, inventoryJson: inventory, decisionsJson: decisions, anomaliesJson: anomalies, requestsText: requests, truncated };
  };
}
