import type { ErrorObject } from 'ajv';

const MAX_PATH = 200;

/**
 * The first schema error as the caller may see it: where (instancePath, bounded) and ajv's
 * message, which names schema facts (types, limits, required names), never the value that failed.
 */
export function schemaErrorText(errors: readonly ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (e === undefined) return 'does not fit the schema';
  const path = e.instancePath === '' ? '(root)' : e.instancePath.length > MAX_PATH ? `${e.instancePath.slice(0, MAX_PATH)}...` : e.instancePath;
  return `${path} ${e.message ?? `fails ${e.keyword}`}`;
}
