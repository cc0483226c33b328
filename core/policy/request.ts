import type { SpiffeId } from '../spiffe/spiffe-id.ts';

/**
 * What authorization sees of one request (or, for opaque TCP, of one connection: method/path/host
 * undefined). Built once per request by the sidecar; evaluated by the very same code that
 * `ztmesh policy explain` runs. Paths are already normalized.
 */
export interface RequestAttributes {
  /** Verified SPIFFE ID of the peer sidecar (source.principal); undefined for non-mTLS sources. */
  readonly principal: SpiffeId | undefined;
  readonly sourceIp: string;
  readonly destinationPort: number;
  /** Labels of the destination workload (for spec.selector). */
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly host: string | undefined;
  /** Header lookup by lowercase name; multiple values joined with ", ". */
  readonly header: (name: string) => string | undefined;
  /** `ISS/SUB` of a validated end-user JWT, when there is one. */
  readonly requestPrincipal: string | undefined;
  /** Claims of a validated end-user JWT, when there is one. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
}
