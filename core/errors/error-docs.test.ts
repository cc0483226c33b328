import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCodeTables } from './all-codes.ts';
import { renderErrorDocs } from './error-docs.ts';

describe('error codes', () => {
  it('docs/errors.md is generated from the code tables (run npm run docs:errors)', () => {
    const committed = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderErrorDocs());
  });

  it('no code appears in two tables', () => {
    const seen = new Map<string, string>();
    for (const { area, codes } of allCodeTables) {
      for (const code of Object.keys(codes)) {
        expect(seen.get(code), `${code} is in ${seen.get(code)} and ${area}`).toBeUndefined();
        seen.set(code, area);
      }
    }
  });
});
