import { parseSpiffeId, type SpiffeId } from '../spiffe/spiffe-id.ts';
import type { RequestAttributes } from './request.ts';

/**
 * RequestAttributes from plain values, for the request shapes that do not come off a socket:
 * `policy explain` flags, audit-log records replayed by `policy simulate`, tests. The sidecar builds
 * its own from the parsed request; both feed the same evaluator.
 */
export interface PlainRequest {
  readonly principal?: string | null | undefined;
  readonly sourceIp?: string | undefined;
  readonly port: number;
  readonly method?: string | null | undefined;
  readonly path?: string | null | undefined;
  readonly host?: string | null | undefined;
  /** Header values by name (any case). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly requestPrincipal?: string | null | undefined;
  readonly claims?: Readonly<Record<string, unknown>> | null | undefined;
}

/** Throws ZTMESH_SPIFFE_INVALID_ID for a principal that is not a SPIFFE ID. */
export function buildRequestAttributes(req: PlainRequest): RequestAttributes {
  const principal: SpiffeId | undefined = req.principal == null ? undefined : parseSpiffeId(req.principal).id;
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers ?? {})) headers.set(name.toLowerCase(), value);
  return {
    principal,
    sourceIp: req.sourceIp ?? '',
    destinationPort: req.port,
    method: req.method ?? undefined,
    path: req.path ?? undefined,
    host: req.host ?? undefined,
    header: (name) => headers.get(name),
    requestPrincipal: req.requestPrincipal ?? undefined,
    claims: req.claims ?? undefined,
  };
}
