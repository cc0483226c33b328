import { z } from 'zod';
import { buildRequestAttributes } from './build-request.ts';
import type { Decision } from './decision.ts';
import type { RequestAttributes } from './request.ts';
import type { Workload } from './selection.ts';

/**
 * The audit record: one JSON line per decision that must be audited (an AUDIT policy matched, or
 * the sidecar audits all denials). The observability component writes these lines through pino
 * (which adds level/time/pid/name/msg: tolerated here); `ztmesh policy simulate` replays them.
 * Only non-secret headers that policies reference are recorded; credentials never are.
 */
export interface AuditRecord {
  readonly type: 'audit';
  readonly time: string;
  readonly source: { readonly principal: string | null; readonly ip: string };
  readonly destination: {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly port: number;
    readonly host: string | null;
    readonly principal: string;
  };
  readonly request: {
    readonly method: string | null;
    /** Already normalized: the path the policy saw. */
    readonly path: string | null;
    readonly headers: Readonly<Record<string, string>>;
    readonly requestPrincipal: string | null;
    readonly claims: Readonly<Record<string, unknown>> | null;
  };
  readonly decision: 'ALLOW' | 'DENY';
  readonly policy: string | null;
  readonly rule: number | null;
  readonly reason: string;
  readonly traceId: string | null;
}

/** The destination side of a record: the workload the sidecar protects and its own SPIFFE ID. */
export interface AuditWorkload extends Workload {
  readonly principal: string;
}

/** Headers never written to an audit record, whatever a policy references. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

export interface AuditOptions {
  /** Header names the policies reference (PolicyAuthorizer.referencedHeaders). */
  readonly headerNames?: readonly string[];
  readonly traceId?: string | null;
  readonly now?: () => Date;
}

export function toAuditRecord(attributes: RequestAttributes, workload: AuditWorkload, decision: Decision, options: AuditOptions = {}): AuditRecord {
  const headers: Record<string, string> = {};
  for (const name of options.headerNames ?? []) {
    const lower = name.toLowerCase();
    if (SECRET_HEADERS.has(lower)) continue;
    const value = attributes.header(lower);
    if (value !== undefined) headers[lower] = value;
  }
  return {
    type: 'audit',
    time: (options.now?.() ?? new Date()).toISOString(),
    source: { principal: attributes.principal ?? null, ip: attributes.sourceIp },
    destination: {
      namespace: workload.namespace,
      labels: { ...workload.labels },
      port: attributes.destinationPort,
      host: attributes.host ?? null,
      principal: workload.principal,
    },
    request: {
      method: attributes.method ?? null,
      path: attributes.path ?? null,
      headers,
      requestPrincipal: attributes.requestPrincipal ?? null,
      claims: attributes.claims === undefined ? null : { ...attributes.claims },
    },
    decision: decision.decision,
    policy: decision.policy,
    rule: decision.rule,
    reason: decision.reason,
    traceId: options.traceId ?? null,
  };
}

const nullableString = z.string().nullable();
const auditRecordSchema = z.looseObject({
  type: z.literal('audit'),
  time: z.string(),
  source: z.looseObject({ principal: nullableString, ip: z.string() }),
  destination: z.looseObject({
    namespace: z.string(),
    labels: z.record(z.string(), z.string()),
    port: z.int().min(0).max(65535),
    host: nullableString,
    principal: z.string(),
  }),
  request: z.looseObject({
    method: nullableString,
    path: nullableString,
    headers: z.record(z.string(), z.string()),
    requestPrincipal: nullableString,
    claims: z.record(z.string(), z.unknown()).nullable(),
  }),
  decision: z.enum(['ALLOW', 'DENY']),
  policy: nullableString,
  rule: z.int().nullable(),
  reason: z.string(),
  traceId: nullableString.optional().default(null),
});

export type ParsedAuditLine =
  | { readonly kind: 'audit'; readonly record: AuditRecord }
  | { readonly kind: 'other' }
  | { readonly kind: 'malformed'; readonly reason: string };

/** Parses one log line: an audit record, another log line (`other`), or `malformed`. Never throws. */
export function parseAuditLine(line: string): ParsedAuditLine {
  const text = line.trim();
  if (text === '') return { kind: 'other' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'malformed', reason: 'not a JSON object' };
  if ((value as Record<string, unknown>)['type'] !== 'audit') return { kind: 'other' };
  const parsed = auditRecordSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return { kind: 'malformed', reason: `${first.path.join('.') || '(root)'}: ${first.message}` };
  }
  return { kind: 'audit', record: parsed.data as AuditRecord };
}

/** The request and workload of a record, for re-evaluation. Throws for a principal that is not a SPIFFE ID. */
export function auditRecordRequest(record: AuditRecord): { workload: Workload; attributes: RequestAttributes } {
  const attributes = buildRequestAttributes({
    principal: record.source.principal,
    sourceIp: record.source.ip,
    port: record.destination.port,
    method: record.request.method,
    path: record.request.path,
    host: record.destination.host,
    headers: record.request.headers,
    requestPrincipal: record.request.requestPrincipal,
    claims: record.request.claims,
  });
  return { workload: { namespace: record.destination.namespace, labels: record.destination.labels }, attributes };
}
