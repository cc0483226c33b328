import { z } from 'zod';
import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import { inventorySnapshotSchema } from '../sidecar/inventory/fetch-inventory.ts';
import { parsePrometheusText, type PromSample } from './prometheus-text.ts';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const text = (max: number) => z.string().max(max);

export const identitySchema = z.object({
  spiffeId: text(2048),
  serial: text(128),
  notBefore: text(64),
  notAfter: text(64),
  expired: z.boolean(),
});

const decisionSchema = z.object({
  time: text(64),
  direction: z.enum(['inbound', 'outbound']),
  verdict: z.enum(['allow', 'deny', 'error']),
  caller: text(2048).nullable(),
  destination: text(2048).nullable(),
  method: text(256),
  path: text(4096),
  status: z.number().int(),
  code: text(128).nullable(),
  policy: text(512).nullable(),
  rule: z.number().int().nullable(),
  reason: text(1024),
});
export const decisionsSchema = z.object({ denials: z.array(decisionSchema).max(100_000), recent: z.array(decisionSchema).max(100_000) });

/**
 * What the dashboard reads of a sidecar's `/debug/anomalies` (the anomaly detector's recent
 * alerts, newest first): the fields of an Anomaly plus when it was raised. Unknown fields are ignored.
 */
const anomalySchema = z.object({
  time: text(64).optional(),
  kind: text(64),
  caller: text(2048),
  method: text(256).optional(),
  route: text(4096).optional(),
  measure: text(256).optional(),
  observed: z.number().optional(),
  baseline: z.number().optional(),
  deviation: z.number().optional(),
});
export const anomaliesSchema = z.union([z.array(anomalySchema).max(10_000), z.object({ anomalies: z.array(anomalySchema).max(10_000) }).transform((o) => o.anomalies)]);

export type SidecarIdentity = z.infer<typeof identitySchema>;
export type ObservedDecision = z.infer<typeof decisionSchema>;
export type ObservedAnomaly = z.infer<typeof anomalySchema>;
export type ObservedInventory = z.infer<typeof inventorySnapshotSchema>;

/** One poll of one sidecar's admin port. An optional endpoint the sidecar lacks (404) reads as null. */
export interface SidecarReading {
  /** The admin address polled, HOST:PORT. */
  readonly admin: string;
  /** The first failure, if any part could not be read (the rest is still shown). */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly identity: SidecarIdentity | null;
  readonly samples: readonly PromSample[];
  readonly decisions: { readonly denials: readonly ObservedDecision[]; readonly recent: readonly ObservedDecision[] } | null;
  readonly inventory: ObservedInventory | null;
  readonly anomalies: readonly ObservedAnomaly[] | null;
}

function failed(url: string, why: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_DASHBOARD_SOURCE_FAILED', `${url}: ${why}`, { cause, details: { url } });
}

/** GET a URL: the body text, or undefined on 404 when `optional`; every other failure a MeshError. */
async function get(url: string, timeoutMs: number, optional: boolean): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const reason = err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.name) : String(err);
    throw failed(url, `cannot connect (${reason})`, err);
  }
  if (optional && res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw failed(url, `answered ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw failed(url, `body over ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw failed(url, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson<T>(url: string, body: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw failed(url, 'did not answer JSON', err);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw failed(url, `unexpected JSON (${first?.path.join('.') ?? ''}: ${first?.message ?? ''})`);
  }
  return parsed.data;
}

/**
 * Reads one sidecar's admin port: /metrics (required), /debug/identity, and the optional
 * /debug/decisions, /inventory and /debug/anomalies, all at once. Never throws: a part that fails
 * is left empty and the first failure is reported in `error`.
 */
export async function readSidecar(admin: string, timeoutMs: number): Promise<SidecarReading> {
  const base = `http://${admin}`;
  let error: SidecarReading['error'] = null;
  const attempt = async <T>(f: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      error ??= { code: errorCode(err), message: err instanceof Error ? err.message : String(err) };
      return fallback;
    }
  };
  const optional = async <T>(path: string, schema: z.ZodType<T>): Promise<T | null> => {
    const body = await get(base + path, timeoutMs, true);
    return body === undefined ? null : parseJson(base + path, body, schema);
  };
  const [samples, identity, decisions, inventory, anomalies] = await Promise.all([
    attempt(async () => parsePrometheusText((await get(`${base}/metrics`, timeoutMs, false))!), [] as PromSample[]),
    // 404 here means "no SVID yet": shown as no identity, not as an error.
    attempt(() => optional('/debug/identity', identitySchema), null),
    attempt(() => optional('/debug/decisions', decisionsSchema), null),
    attempt(() => optional('/inventory', inventorySnapshotSchema), null),
    attempt(() => optional('/debug/anomalies', anomaliesSchema), null),
  ]);
  return { admin, error, identity, samples, decisions, inventory, anomalies };
}
