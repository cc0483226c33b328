/**
 * The one error base of ztmesh. Every error a component raises on purpose is a MeshError with a
 * stable `code` (ZTMESH_<AREA>_<REASON>), registered in the area's `error-codes.ts` and listed in
 * docs/errors.md. Classify errors by `code` (or class), never by message text.
 */
export class MeshError extends Error {
  readonly code: string;
  /** Extra, non-secret facts for logs (field paths, file names, limits). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isMeshError(err: unknown): err is MeshError {
  return err instanceof MeshError;
}

/** The code of any thrown value: a MeshError's own, a Node system error's (ECONNREFUSED...), or UNKNOWN. */
export function errorCode(err: unknown): string {
  if (err instanceof MeshError) return err.code;
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return 'UNKNOWN';
}
