import { JsonTopLevelScanner } from './json-top-level-scanner.ts';

/**
 * A bounded sniff of a JSON response body's top-level field names and their JSON types (never the
 * values), for the API inventory. The body is scanned once, only when it is small enough;
 * malformed JSON is reported as such, never thrown.
 */

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

export type JsonFieldSniff =
  | { readonly ok: true; readonly fields: ReadonlyMap<string, JsonType> }
  | { readonly ok: false; readonly reason: 'malformed' | 'too-large' | 'not-object' };

export const DEFAULT_SNIFF_MAX_BYTES = 64 * 1024;
export const DEFAULT_SNIFF_MAX_FIELDS = 64;

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'object';
}

/**
 * Top-level field names of a JSON object body (of an array of objects: of its first element, the
 * usual list shape). At most `maxFields` names are kept.
 */
export function sniffJsonFields(body: string | Uint8Array, maxBytes = DEFAULT_SNIFF_MAX_BYTES, maxFields = DEFAULT_SNIFF_MAX_FIELDS): JsonFieldSniff {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length > maxBytes) return { ok: false, reason: 'too-large' };
  // The same incremental scanner the data plane runs on bodies as they stream past.
  const scanner = new JsonTopLevelScanner(maxBytes, maxFields);
  scanner.feed(bytes, 0, bytes.length);
  const result = scanner.finish();
  if (result === 'fields' || result === 'partial') return { ok: true, fields: scanner.fields };
  return { ok: false, reason: result === 'not-object' ? 'not-object' : 'malformed' };
}
