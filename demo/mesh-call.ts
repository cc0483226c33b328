/**
 * The result of one call a demo app made through its sidecar's outbound listener. `identity` is
 * the callee's SPIFFE ID as the callee reports it, `caller` the identity its inbound sidecar
 * verified and passed on (x-ztmesh-peer-identity), echoed back; `error` is the sidecar's error code
 * when the mesh refused the call (or the socket error code when the sidecar could not be reached).
 */
export interface MeshCall {
  readonly to: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | null;
  readonly identity: string | null;
  readonly caller: string | null;
  readonly latencyMs: number;
  readonly error: string | null;
  /** The calls the callee made itself while answering (orders -> payments). */
  readonly calls: readonly MeshCall[];
}

const MAX_NESTED = 8;

/** Reads a MeshCall list out of untrusted JSON (a callee's answer): wrong shapes are dropped, never trusted. */
export function meshCallsFrom(value: unknown, depth = 0): MeshCall[] {
  if (!Array.isArray(value) || depth > 2) return [];
  const out: MeshCall[] = [];
  for (const item of value.slice(0, MAX_NESTED)) {
    if (item === null || typeof item !== 'object') continue;
    const r = item as Record<string, unknown>;
    if (typeof r['to'] !== 'string' || typeof r['method'] !== 'string' || typeof r['path'] !== 'string') continue;
    out.push({
      to: r['to'],
      method: r['method'],
      path: r['path'],
      status: typeof r['status'] === 'number' ? r['status'] : null,
      identity: stringOrNull(r['identity']),
      caller: stringOrNull(r['caller']),
      latencyMs: typeof r['latencyMs'] === 'number' ? r['latencyMs'] : 0,
      error: stringOrNull(r['error']),
      calls: meshCallsFrom(r['calls'], depth + 1),
    });
  }
  return out;
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 2048 ? value : null;
}
