import { type AuditRecord, toAuditRecord } from '../../core/policy/audit-record.ts';
import type { Decision } from '../../core/policy/decision.ts';
import type { RequestAttributes } from '../../core/policy/request.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { RequestInfo } from './request-observer.ts';

export type { AuditRecord } from '../../core/policy/audit-record.ts';

export const REDACTED = '[redacted]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);
const SECRET_NAME = /token|secret|password|passwd|api[-_]?key|credential/i;

/** True for header and claim names whose values must never be logged. */
export function isSecretName(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase()) || SECRET_NAME.test(name);
}

const MAX_CLAIM_DEPTH = 8;

/** A copy of `value` with every secret-named key redacted, at any depth (arrays included). */
export function redactClaims(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_CLAIM_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactClaims(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) ? REDACTED : redactClaims(v, depth + 1);
  return out;
}

/** The destination workload, as the audit line names it. */
export interface AuditWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The audit record of one authorized request, built by the policy component's `toAuditRecord`
 * (the format `ztmesh policy simulate` reads), with the sidecar's stricter secret rules on top:
 * headers named like a credential are never recorded (not even as requested by a policy), and
 * secret-named claims are redacted at any depth.
 */
export function auditRecordFor(
  info: RequestInfo,
  decision: Decision,
  workload: AuditWorkload,
  selfIdentity: string | undefined,
  headerNames: readonly string[],
  traceId: string | undefined,
): AuditRecord {
  const attributes: RequestAttributes = {
    // A verified peer SVID's ID (the data plane only reports verified identities).
    principal: info.sourcePrincipal as SpiffeId | undefined,
    sourceIp: info.sourceIp,
    destinationPort: info.destinationPort,
    method: info.method,
    path: info.path,
    host: info.host,
    header: (name) => info.header(name),
    requestPrincipal: info.requestPrincipal,
    claims: info.claims,
  };
  const principal = info.destinationPrincipal ?? selfIdentity ?? 'unknown';
  const record = toAuditRecord(attributes, { ...workload, principal }, decision, {
    headerNames: headerNames.filter((name) => !isSecretName(name)),
    traceId: traceId ?? null,
  });
  if (record.request.claims === null) return record;
  return { ...record, request: { ...record.request, claims: redactClaims(record.request.claims) as Record<string, unknown> } };
}
