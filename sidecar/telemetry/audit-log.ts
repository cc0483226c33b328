import { pino, type DestinationStream, type Logger } from 'pino';
import type { Decision } from '../../core/policy/decision.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { AuditRecord } from '../../core/policy/audit-record.ts';

export interface AuditOptions {
  /** Fraction (0..1) of allowed requests recorded; denied and AUDIT-marked requests are always recorded. */
  readonly sampleAllowed: number;
  /** A dedicated audit stream (file, pipe); lines are then exactly the AuditRecord. Default: the main log. */
  readonly destination?: DestinationStream;
  /**
   * Request headers recorded: a fixed list, or a function read per record (e.g. the current
   * authorizer's `referencedHeaders`, so a replay sees what the policies look at). Credential
   * headers are never recorded whatever the list says.
   */
  readonly headers?: readonly string[] | (() => readonly string[]);
}

export const DEFAULT_AUDIT_HEADERS: readonly string[] = ['user-agent', 'content-type', 'x-request-id'];

// Defence in depth: the record builder already redacts these.
const AUDIT_REDACT_PATHS = [
  'request.headers.authorization', 'request.headers.cookie', 'request.headers["set-cookie"]',
  'request.headers["proxy-authorization"]', 'request.headers["x-api-key"]',
];

/**
 * The audit log: one JSON line per recorded decision, written through pino with `type:"audit"`,
 * at its own level so that a quiet main log never silences it. With a dedicated destination the
 * line is exactly the AuditRecord (no level, pid or name); in the main log it is a child line
 * whose `time` is pino's (ISO with createLogger).
 */
export class AuditLog {
  readonly #sampleAllowed: number;
  readonly #dedicated: Logger | undefined;
  readonly #child: Logger | undefined;
  readonly headers: () => readonly string[];

  constructor(logger: Logger, options: AuditOptions) {
    if (!(options.sampleAllowed >= 0 && options.sampleAllowed <= 1)) {
      throw new MeshError('ZTMESH_TELEMETRY_INVALID_OPTIONS', `audit.sampleAllowed must be a number from 0 to 1, got ${String(options.sampleAllowed)}`, { details: { option: 'audit.sampleAllowed' } });
    }
    this.#sampleAllowed = options.sampleAllowed;
    const headers = options.headers ?? DEFAULT_AUDIT_HEADERS;
    this.headers = typeof headers === 'function' ? headers : () => headers;
    if (options.destination !== undefined) {
      this.#dedicated = pino(
        // The level slot carries `"type":"audit"`, so the line starts exactly like the record.
        { base: null, timestamp: false, level: 'info', formatters: { level: () => ({ type: 'audit' }) }, redact: { paths: AUDIT_REDACT_PATHS, censor: '[redacted]' } },
        options.destination,
      );
      this.#child = undefined;
    } else {
      this.#dedicated = undefined;
      this.#child = logger.child({ type: 'audit' }, { level: 'info', redact: { paths: AUDIT_REDACT_PATHS, censor: '[redacted]' } });
    }
  }

  /** Every DENY, every AUDIT-marked request, and ALLOWs sampled at `sampleAllowed`. */
  shouldRecord(decision: Decision): boolean {
    if (decision.decision === 'DENY' || decision.audit) return true;
    return this.#sampleAllowed > 0 && Math.random() < this.#sampleAllowed;
  }

  write(record: AuditRecord): void {
    if (this.#dedicated !== undefined) {
      const { type: _type, ...rest } = record;
      this.#dedicated.info(rest);
      return;
    }
    const { type: _type, time: _time, ...rest } = record;
    this.#child!.info(rest);
  }
}
