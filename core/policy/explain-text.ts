import type { Explanation } from './compile.ts';

/**
 * The readable form of an explanation, as `ztmesh policy explain` prints it without --json: the
 * decision, the policy and rule that decided it, then every policy with why it did or did not match.
 */
export function formatExplanation(e: Explanation, path: { readonly raw: string; readonly normalized: string | undefined }): string {
  const d = e.decision;
  const lines: string[] = [];
  lines.push(`decision: ${d.decision}`);
  lines.push(`reason:   ${d.reason}`);
  if (d.policy !== null) lines.push(`decided by: policy ${d.policy}, rule ${d.rule}`);
  if (path.normalized !== undefined && path.normalized !== path.raw) lines.push(`path:     ${JSON.stringify(path.raw)} normalized to ${JSON.stringify(path.normalized)}`);
  if (d.audit) lines.push('audit:    an AUDIT policy matched; the request is written to the audit log');
  for (const dry of d.dryRun) lines.push(`dry-run:  ${dry.policy} would ${dry.decision === 'ALLOW' ? 'allow' : 'deny'} this request`);
  if (e.policies.length === 0) {
    lines.push('', 'no policies');
    return lines.join('\n') + '\n';
  }
  lines.push('', 'policies:');
  for (const p of e.policies) {
    const tag = `${p.action}${p.dryRun ? ', dry-run' : ''}`;
    if (p.notSelected !== undefined) {
      lines.push(`  ${p.policy} (${tag}): does not apply: ${p.notSelected}`);
      continue;
    }
    if (p.rules.length === 0) {
      lines.push(`  ${p.policy} (${tag}): no rules, matches nothing${p.action === 'ALLOW' ? ' (allow-nothing)' : ''}`);
      continue;
    }
    const decided = d.policy === p.policy;
    lines.push(`  ${p.policy} (${tag})${decided ? ': DECIDED' : ''}`);
    for (const r of p.rules) {
      if (r.matched) lines.push(`    rule ${r.index}: matched${decided && d.rule === r.index ? ' (deciding rule)' : ''}`);
      else lines.push(`    rule ${r.index}: no match: ${r.why.join('; ')}`);
    }
  }
  return lines.join('\n') + '\n';
}
