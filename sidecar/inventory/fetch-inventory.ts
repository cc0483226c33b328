import { z } from 'zod';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { InventorySnapshot } from './api-inventory.ts';

const jsonType = z.enum(['string', 'number', 'boolean', 'null', 'object', 'array']);
// `service` only in the operator's merged inventory (its top-level service is `*`).
const route = z.object({ method: z.string().max(64), route: z.string().max(4096), service: z.string().max(253).optional() });

/** The shape a sidecar's `/inventory` must have; anything else is ZTMESH_INVENTORY_BAD_SNAPSHOT. */
export const inventorySnapshotSchema = z.object({
  service: z.string().max(253),
  generatedAt: z.string(),
  maxRoutes: z.number().int().nonnegative(),
  overflow: z.number().int().nonnegative(),
  apis: z.array(z.object({
    service: z.string().max(253),
    method: z.string().max(64),
    route: z.string().max(4096),
    callers: z.array(z.string().max(2048)),
    callersOverflow: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
    statusClasses: z.record(z.string(), z.number().int().nonnegative()),
    firstSeen: z.string(),
    lastSeen: z.string(),
    requestContentTypes: z.array(z.string()),
    responseContentTypes: z.array(z.string()),
    responseFields: z.record(z.string(), jsonType),
    malformedBodies: z.number().int().nonnegative(),
    sensitive: z.array(z.string()),
    sensitiveCallers: z.array(z.string().max(2048)).default([]),
    declared: z.boolean(),
  })),
  zombies: z.array(route),
});

const MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024;

/** GET http://ADDR/inventory from one sidecar admin port (or the operator's dashboard, with its bearer `token`), validated. */
export async function fetchInventory(addr: string, timeoutMs = 5000, token?: string): Promise<InventorySnapshot> {
  const url = `http://${addr}/inventory`;
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    text = await res.text();
    if (res.status !== 200) {
      throw new MeshError('ZTMESH_INVENTORY_UNREACHABLE', `${url} answered ${res.status}`, { details: { addr, status: res.status } });
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    const reason = err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.name) : String(err);
    throw new MeshError('ZTMESH_INVENTORY_UNREACHABLE', `cannot read ${url}: ${reason}`, { cause: err, details: { addr } });
  }
  if (text.length > MAX_SNAPSHOT_BYTES) throw new MeshError('ZTMESH_INVENTORY_BAD_SNAPSHOT', `${url}: snapshot over ${MAX_SNAPSHOT_BYTES} bytes`, { details: { addr } });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MeshError('ZTMESH_INVENTORY_BAD_SNAPSHOT', `${url} did not answer JSON`, { cause: err, details: { addr } });
  }
  const parsed = inventorySnapshotSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new MeshError('ZTMESH_INVENTORY_BAD_SNAPSHOT', `${url} is not an inventory snapshot (${first?.path.join('.') ?? ''}: ${first?.message ?? ''})`, { details: { addr } });
  }
  return parsed.data;
}
