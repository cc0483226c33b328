/**
 * OpenAPI Schema Objects as JSON Schema for ajv, walked with knowledge of where subschemas sit
 * (so a property *named* `nullable` or `$ref` is never mistaken for the keyword):
 * - OpenAPI 3.0 (a JSON Schema draft-04/05 dialect): `nullable: true` becomes a `null` type
 *   (or `anyOf [..., {type: null}]`), boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers;
 * - both versions: `$ref: '#/components/schemas/X'` points into the one shared components schema
 *   (`COMPONENTS_ID#/$defs/X`); any other `$ref` is refused (thrown), never ignored.
 */

export const COMPONENTS_ID = 'urn:ztmesh:openapi:components';

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_ONE = new Set([
  'items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of `schema` with `fn` applied to every schema object in it, innermost first. */
function mapSchemas(schema: unknown, fn: (s: Record<string, unknown>) => Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => mapSchemas(s, fn));
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSchemas(v, fn)]));
    } else if ((SCHEMA_LISTS.has(key) && Array.isArray(value)) || SCHEMA_ONE.has(key)) {
      out[key] = mapSchemas(value, fn);
    } else {
      out[key] = value;
    }
  }
  return fn(out);
}

/** OpenAPI 3.0 Schema Object -> JSON Schema draft-07. */
export function openApi30ToJsonSchema(schema: unknown): unknown {
  return mapSchemas(schema, (s) => {
    const out = { ...s };
    for (const [key, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof out[key] === 'boolean') {
        if (out[key] === true && typeof out[bound] === 'number') {
          out[key] = out[bound];
          delete out[bound];
        } else {
          delete out[key];
        }
      }
    }
    if (out['nullable'] !== true) {
      delete out['nullable'];
      return out;
    }
    delete out['nullable'];
    if (Array.isArray(out['enum']) && !out['enum'].includes(null)) out['enum'] = [...out['enum'], null];
    if (typeof out['type'] === 'string') {
      out['type'] = [out['type'], 'null'];
      return out;
    }
    if (Array.isArray(out['type'])) {
      if (!out['type'].includes('null')) out['type'] = [...out['type'], 'null'];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  });
}

/** `#/components/schemas/X...` -> `COMPONENTS_ID#/$defs/X...`; throws on any other `$ref`. */
export function rewriteRefs(schema: unknown): unknown {
  return mapSchemas(schema, (s) => {
    const ref = s['$ref'];
    if (typeof ref !== 'string') return s;
    const prefix = '#/components/schemas/';
    if (!ref.startsWith(prefix)) throw new Error(`$ref ${JSON.stringify(ref)} is not supported: schemas may refer to #/components/schemas/... only`);
    return { ...s, $ref: `${COMPONENTS_ID}#/$defs/${ref.slice(prefix.length)}` };
  });
}
