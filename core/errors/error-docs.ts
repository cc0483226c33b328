import { allCodeTables } from './all-codes.ts';

/** Renders docs/errors.md from the code tables; a test keeps the committed file equal to this. */
export function renderErrorDocs(): string {
  const out = [
    '# ztmesh error codes',
    '',
    'Generated from the `error-codes.ts` tables by `npm run docs:errors`; a test fails when this file and the code disagree.',
    'A code is never reused for another meaning once published. Classify errors by code, never by message text.',
    '',
  ];
  for (const { area, codes } of allCodeTables) {
    out.push(`## ${area}`, '', '| code | meaning |', '|---|---|');
    for (const [code, meaning] of Object.entries(codes)) out.push(`| \`${code}\` | ${meaning} |`);
    out.push('');
  }
  return out.join('\n');
}
