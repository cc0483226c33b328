import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { isJsonMediaType } from './body-check.ts';
import { openApi30ToJsonSchema, rewriteRefs, COMPONENTS_ID } from './openapi-schema.ts';

/** What request validation needs of one OpenAPI operation. Schemas are already JSON Schema (refs rewritten). */
export interface OperationSpec {
  readonly method: string;
  /** The path template as the document writes it (`/users/{userId}`). */
  readonly path: string;
  /** Where in the document, for error messages: `paths./users/{userId}.post`. */
  readonly where: string;
  readonly body: { readonly schema: unknown; readonly required: boolean; readonly mediaTypes: readonly string[] } | undefined;
  /** An object schema of the query parameters, and the array parameters written as one delimited value. */
  readonly query: { readonly schema: Record<string, unknown>; readonly delimited: ReadonlyMap<string, string> } | undefined;
}

export interface OpenApiDocument {
  readonly file: string;
  /** JSON Schema dialect of the schemas: OpenAPI 3.0's are converted to draft-07, 3.1's are 2020-12. */
  readonly dialect: 'draft-07' | '2020-12';
  /** `{ $id: COMPONENTS_ID, $defs: components.schemas }`, for `$ref`s into components; undefined when there are none. */
  readonly components: Record<string, unknown> | undefined;
  readonly operations: readonly OperationSpec[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const MAX_REF_DEPTH = 16;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads an OpenAPI 3.0 or 3.1 document (YAML or JSON) and extracts, per operation, the JSON
 * request body schema and the query parameters. Local `$ref`s are followed for path items,
 * parameters and request bodies; schema `$ref`s into `#/components/schemas` are kept as references
 * to one shared components schema. Anything it cannot honour exactly (external refs) is an error,
 * never silently skipped: a validation that checks less than declared would be a false assurance.
 */
export function readOpenApi(file: string): OpenApiDocument {
  const fail = (where: string, message: string, cause?: unknown): MeshError =>
    new MeshError('ZTMESH_VALIDATION_BAD_OPENAPI', `${file}${where === '' ? '' : `: ${where}`}: ${message}`, { cause, details: { file, where } });
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
    throw fail('', `cannot read the OpenAPI document (${reason})`, err);
  }
  if (!isObject(doc)) throw fail('', 'is not an OpenAPI document (not an object)');
  const version = doc['openapi'];
  if (typeof version !== 'string' || !/^3\.[01]\.\d+/.test(version)) throw fail('openapi', `OpenAPI 3.0.x or 3.1.x required, got ${JSON.stringify(version ?? null)}`);
  const dialect = version.startsWith('3.0') ? 'draft-07' : '2020-12';
  const toSchema = (schema: unknown, where: string): unknown => {
    try {
      const converted = dialect === 'draft-07' ? openApi30ToJsonSchema(schema) : schema;
      return rewriteRefs(converted);
    } catch (err) {
      throw fail(where, err instanceof Error ? err.message : String(err), err);
    }
  };
  const resolve = (value: unknown, where: string): unknown => {
    let v = value;
    for (let depth = 0; isObject(v) && typeof v['$ref'] === 'string'; depth++) {
      const ref = v['$ref'];
      if (depth >= MAX_REF_DEPTH) throw fail(where, `$ref chain longer than ${MAX_REF_DEPTH}`);
      if (!ref.startsWith('#/')) throw fail(where, `external $ref ${JSON.stringify(ref)} is not supported; bundle the document first`);
      v = ref.slice(2).split('/').reduce<unknown>((node, part) => (isObject(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
      if (v === undefined) throw fail(where, `$ref ${JSON.stringify(ref)} points to nothing`);
    }
    return v;
  };

  const schemas = isObject(doc['components']) ? doc['components']['schemas'] : undefined;
  let components: Record<string, unknown> | undefined;
  if (isObject(schemas)) {
    const defs: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(schemas)) defs[name] = toSchema(s, `components.schemas.${name}`);
    components = { $id: COMPONENTS_ID, $defs: defs };
  }

  const operations: OperationSpec[] = [];
  const paths = doc['paths'];
  if (paths !== undefined && !isObject(paths)) throw fail('paths', 'must be an object');
  for (const [path, rawItem] of Object.entries(paths ?? {})) {
    if (!path.startsWith('/')) throw fail(`paths.${path}`, 'a path must start with "/"');
    const item = resolve(rawItem, `paths.${path}`);
    if (!isObject(item)) throw fail(`paths.${path}`, 'must be a path item object');
    const shared = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `paths.${path}.${method}`;
      if (!isObject(op)) throw fail(where, 'must be an operation object');
      // Operation parameters override path-item ones of the same name and location.
      const params = new Map<string, Record<string, unknown>>();
      const own = Array.isArray(op['parameters']) ? op['parameters'] : [];
      [...shared, ...own].forEach((raw: unknown, i: number) => {
        const p = resolve(raw, `${where}.parameters[${i}]`);
        if (isObject(p) && typeof p['name'] === 'string' && typeof p['in'] === 'string') params.set(`${p['in']}:${p['name']}`, p);
      });
      operations.push({ method: method.toUpperCase(), path, where, body: bodySpec(op, where), query: querySpec(params, where) });
    }
  }
  return { file, dialect, components, operations };

  function bodySpec(op: Record<string, unknown>, where: string): OperationSpec['body'] {
    if (op['requestBody'] === undefined) return undefined;
    const rb = resolve(op['requestBody'], `${where}.requestBody`);
    if (!isObject(rb) || !isObject(rb['content'])) return undefined;
    const mediaTypes = Object.keys(rb['content']).map((m) => m.split(';')[0]!.trim().toLowerCase());
    for (const [mediaType, media] of Object.entries(rb['content'])) {
      const type = mediaType.split(';')[0]!.trim().toLowerCase();
      if (isJsonMediaType(type) && isObject(media) && media['schema'] !== undefined) {
        return { schema: toSchema(media['schema'], `${where}.requestBody.content.${mediaType}.schema`), required: rb['required'] === true, mediaTypes };
      }
    }
    return undefined;
  }

  function querySpec(params: ReadonlyMap<string, Record<string, unknown>>, where: string): OperationSpec['query'] {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    const delimited = new Map<string, string>();
    for (const p of params.values()) {
      if (p['in'] !== 'query' || p['schema'] === undefined || p['style'] === 'deepObject') continue;
      const name = p['name'] as string;
      const schema = toSchema(p['schema'], `${where}.parameters.${name}.schema`);
      properties[name] = schema;
      if (p['required'] === true) required.push(name);
      const style = typeof p['style'] === 'string' ? p['style'] : 'form';
      const isArray = isObject(schema) && (schema['type'] === 'array' || (Array.isArray(schema['type']) && schema['type'].includes('array')));
      if (isArray) {
        if (style === 'spaceDelimited') delimited.set(name, ' ');
        else if (style === 'pipeDelimited') delimited.set(name, '|');
        else if (p['explode'] === false) delimited.set(name, ',');
      }
    }
    if (Object.keys(properties).length === 0) return undefined;
    return { schema: { type: 'object', properties, ...(required.length > 0 ? { required } : {}) }, delimited };
  }
}
