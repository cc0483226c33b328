/**
 * A table of error codes of one area: code -> one-line meaning. Each area keeps its own table in
 * `<area>/error-codes.ts`; core/errors/all-codes.ts gathers them, and a test keeps docs/errors.md in
 * sync with them. A published code is never reused for another meaning.
 */
export type CodeTable = Readonly<Record<string, string>>;

export function defineCodes<const T extends Record<string, string>>(area: string, table: T): T {
  for (const code of Object.keys(table)) {
    if (!code.startsWith(`ZTMESH_${area}_`)) {
      throw new Error(`error code ${code} does not start with ZTMESH_${area}_`);
    }
  }
  return Object.freeze(table);
}
