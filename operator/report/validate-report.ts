import type { z } from 'zod';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import { parsePrometheusText, type PromSample } from '../../dashboard/prometheus-text.ts';
import { anomaliesSchema, decisionsSchema, identitySchema, type ObservedAnomaly, type ObservedDecision, type ObservedInventory, type SidecarIdentity } from '../../dashboard/sidecar-reading.ts';
import { inventorySnapshotSchema } from '../../sidecar/inventory/fetch-inventory.ts';
import { MAX_ACCEPTED_REPORT_BYTES, type SidecarReportMessage } from '../distribute/distribution-proto.ts';

/** The only series a report may carry: the service graph's. */
export const REQUESTS_SERIES = 'ztmesh_requests_total';
const MAX_SAMPLES = 5000;
const MAX_TRUNCATED = 16;
const MAX_DENIALS = 500;
const MAX_ANOMALIES = 500;

/** A report that passed validation: typed parts, its size, and what the sidecar cut. */
export interface ValidReport {
  readonly sequence: number;
  readonly generatedAt: number;
  readonly identity: SidecarIdentity | null;
  /**
   * The inventory snapshot as the sidecar sent it: checked against the `/inventory` schema, but
   * with any further fields kept (newer sidecars may add some; the merge carries them through).
   */
  readonly inventory: ObservedInventory | null;
  readonly decisions: { readonly denials: readonly ObservedDecision[]; readonly recent: readonly ObservedDecision[] } | null;
  readonly anomalies: readonly ObservedAnomaly[] | null;
  readonly samples: readonly PromSample[];
  readonly truncated: readonly string[];
  /** The report's payload size in bytes (what the memory budget counts). */
  readonly bytes: number;
}

function bad(part: string, reason: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_CONTROL_BAD_REPORT', `report ${part}: ${reason}`, { cause, details: { part } });
}

function json<T>(part: string, text: string, schema: z.ZodType<T>, keepExtra: boolean): T | null {
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(part, 'is not JSON', err);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw bad(part, `does not match its schema (${first?.path.join('.') ?? ''}: ${first?.message ?? ''})`);
  }
  return keepExtra ? (value as T) : parsed.data;
}

function number(part: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw bad(part, 'is not a non-negative integer');
  return n;
}

/**
 * Validates one report as received (a gRPC message, so attacker-shaped): its size first (over
 * 1 MiB is refused before anything is parsed), then each part against the schema of the admin
 * endpoint it mirrors. Throws ZTMESH_CONTROL_BAD_REPORT naming the part; never anything else.
 */
export function validateReport(message: SidecarReportMessage): ValidReport {
  try {
    const strings = [message.identityJson, message.inventoryJson, message.decisionsJson, message.anomaliesJson, message.requestsText];
    if (strings.some((s) => typeof s !== 'string') || !Array.isArray(message.truncated)) throw bad('message', 'has a part of the wrong type');
    if (message.truncated.length > MAX_TRUNCATED || message.truncated.some((t) => typeof t !== 'string' || t.length > 64)) throw bad('truncated', `must list at most ${MAX_TRUNCATED} short part names`);
    let bytes = 0;
    for (const s of strings) bytes += Buffer.byteLength(s);
    if (bytes > MAX_ACCEPTED_REPORT_BYTES) throw bad('message', `is ${bytes} bytes, over the ${MAX_ACCEPTED_REPORT_BYTES} accepted`);
    const decisions = json('decisions', message.decisionsJson, decisionsSchema, false);
    if (decisions !== null && decisions.denials.length + decisions.recent.length > MAX_DENIALS) throw bad('decisions', `holds more than ${MAX_DENIALS} entries`);
    const anomalies = json('anomalies', message.anomaliesJson, anomaliesSchema, false);
    if (anomalies !== null && anomalies.length > MAX_ANOMALIES) throw bad('anomalies', `holds more than ${MAX_ANOMALIES} entries`);
    let samples: PromSample[] = [];
    if (message.requestsText !== '') {
      try {
        samples = parsePrometheusText(message.requestsText);
      } catch (err) {
        throw bad('requests', `is not Prometheus text (${errorCode(err)})`, err);
      }
      if (samples.some((s) => s.name !== REQUESTS_SERIES)) throw bad('requests', `may only carry ${REQUESTS_SERIES}`);
      if (samples.length > MAX_SAMPLES) throw bad('requests', `holds more than ${MAX_SAMPLES} series`);
    }
    const inventory = json('inventory', message.inventoryJson, inventorySnapshotSchema, true);
    if (inventory !== null && inventory.apis.some((a) => a.service !== inventory.service)) throw bad('inventory', 'lists an API of another service than its own');
    return {
      sequence: number('sequence', message.sequence),
      generatedAt: number('generatedAt', message.generatedAt),
      identity: json('identity', message.identityJson, identitySchema, false),
      inventory,
      decisions,
      anomalies,
      samples,
      truncated: [...message.truncated],
      bytes,
    };
  } catch (err) {
    if (err instanceof MeshError && err.code === 'ZTMESH_CONTROL_BAD_REPORT') throw err;
    throw bad('message', 'could not be read', err);
  }
}
