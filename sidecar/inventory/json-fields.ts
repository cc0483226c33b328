/**
 * A bounded sniff of a JSON response body's top-level field names and their JSON types (never the
 * values), for the API inventory. The body is parsed at most once, only when it is small enough;
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
  if (body.length > maxBytes) return { ok: false, reason: 'too-large' };
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (Array.isArray(value)) value = value[0];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not-object' };
  const fields = new Map<string, JsonType>();
  for (const key of Object.keys(value)) {
    if (fields.size >= maxFields) break;
    fields.set(key, jsonTypeOf((value as Record<string, unknown>)[key]));
  }
  return { ok: true, fields };
}
