import { terminalSafe } from './terminal-text.ts';

/** One authorization decision, as a sidecar's audit log line reports it. */
export interface DecisionEvent {
  readonly decision: string;
  /** The caller's SPIFFE ID (source.principal), or its IP when it had none. */
  readonly source: string;
  readonly destination: string;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly status: number | undefined;
  readonly policy: string | undefined;
  readonly rule: number | undefined;
  readonly reason: string | undefined;
  readonly code: string | undefined;
}

type Json = Record<string, unknown>;

/** A field by dotted name, written either flat (`"source.principal": ...`) or nested (`source: {principal}`). */
function field(record: Json, dotted: string): unknown {
  if (dotted in record) return record[dotted];
  let current: unknown = record;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[part];
  }
  return current;
}

function text(record: Json, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = field(record, name);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function number(record: Json, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = field(record, name);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

/** Reads a decision out of one parsed log record; undefined when the record is not an audit line. */
export function decisionFromRecord(record: Json): DecisionEvent | undefined {
  if (record['type'] !== 'audit') return undefined;
  const decision = text(record, 'decision', 'decision.decision');
  if (decision === undefined) return undefined;
  return {
    decision,
    source: text(record, 'source.principal', 'source.ip') ?? 'unauthenticated',
    // The sidecar's AuditRecord names the destination by principal and labels; plain names also read.
    destination:
      text(record, 'destination', 'destination.principal', 'destination.labels.app', 'destination.workload', 'destination.name', 'destination.host') ??
      'unknown',
    method: text(record, 'request.method', 'method'),
    path: text(record, 'request.path', 'path'),
    status: number(record, 'status', 'response.status', 'response.statusCode', 'statusCode'),
    policy: text(record, 'policy', 'decision.policy'),
    rule: number(record, 'rule', 'decision.rule'),
    reason: text(record, 'reason', 'decision.reason'),
    code: text(record, 'code', 'error.code', 'errorCode'),
  };
}

/** `spiffe://td/ns/shop/sa/orders` -> `orders`; other names are shown as they are. */
export function shortName(identity: string): string {
  const match = /^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/([^/]+)$/.exec(identity);
  return match?.[1] ?? identity;
}

/**
 * One readable terminal line per decision, e.g.
 * `ALLOW  frontend -> orders    GET /orders   200  policy shop/orders-allow-frontend`.
 */
export function formatDecision(event: DecisionEvent): string {
  const verdict = terminalSafe(event.decision, 8).padEnd(6);
  const route = `${terminalSafe(shortName(event.source), 80)} -> ${terminalSafe(shortName(event.destination), 80)}`.padEnd(22);
  const request = `${terminalSafe(event.method ?? '', 16)} ${terminalSafe(event.path ?? '', 120)}`.trim().padEnd(15);
  const status = event.status === undefined ? '' : `${event.status}  `;
  const why: string[] = [];
  if (event.policy !== undefined) why.push(`policy ${terminalSafe(event.policy, 120)}${event.rule === undefined ? '' : ` rule ${event.rule}`}`);
  if (event.reason !== undefined && (event.policy === undefined || event.decision !== 'ALLOW')) why.push(terminalSafe(event.reason, 160));
  if (event.code !== undefined) why.push(`(${terminalSafe(event.code, 60)})`);
  return `${verdict} ${route} ${request} ${status}${why.join('  ')}`.trimEnd();
}
