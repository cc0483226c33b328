import { auditRecordRequest, parseAuditLine, type AuditRecord } from './audit-record.ts';
import { compilePolicies, type PolicyAuthorizer } from './compile.ts';
import type { Decision } from './decision.ts';
import type { MeshConfig } from './mesh-config.ts';
import type { AuthorizationPolicy } from './schema.ts';

/**
 * Replays the decisions recorded in audit logs against a candidate policy set and reports the
 * requests whose decision would change: "what will my change break?". Uses the same compile and
 * evaluate as the sidecar, one compiled authorizer per distinct destination workload.
 */

export interface ChangedDecision {
  /** 1-based line number in the log. */
  readonly line: number;
  readonly record: AuditRecord;
  readonly before: 'ALLOW' | 'DENY';
  readonly after: Decision;
}

export interface SimulationResult {
  readonly lines: number;
  readonly records: number;
  /** Lines that are other log lines (not audit records). */
  readonly skippedOther: number;
  /** Lines that look broken: not JSON, or an audit record of the wrong shape. */
  readonly malformed: number;
  readonly changed: readonly ChangedDecision[];
}

export async function simulateAuditLog(lines: AsyncIterable<string> | Iterable<string>, policies: readonly AuthorizationPolicy[], mesh: MeshConfig): Promise<SimulationResult> {
  const authorizers = new Map<string, PolicyAuthorizer>();
  const changed: ChangedDecision[] = [];
  let count = 0;
  let records = 0;
  let skippedOther = 0;
  let malformed = 0;
  for await (const line of lines) {
    count++;
    const parsed = parseAuditLine(line);
    if (parsed.kind === 'other') {
      if (line.trim() !== '') skippedOther++;
      continue;
    }
    if (parsed.kind === 'malformed') {
      malformed++;
      continue;
    }
    let request: ReturnType<typeof auditRecordRequest>;
    try {
      request = auditRecordRequest(parsed.record);
    } catch {
      malformed++;
      continue;
    }
    records++;
    const key = JSON.stringify([request.workload.namespace, Object.entries(request.workload.labels).sort()]);
    let authorizer = authorizers.get(key);
    if (authorizer === undefined) {
      authorizer = compilePolicies(policies, request.workload, mesh);
      authorizers.set(key, authorizer);
    }
    const after = authorizer.evaluate(request.attributes);
    if (after.decision !== parsed.record.decision) changed.push({ line: count, record: parsed.record, before: parsed.record.decision, after });
  }
  return { lines: count, records, skippedOther, malformed, changed };
}
