import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { MeshError } from '../../core/errors/mesh-error.ts';

// ajv-formats is CommonJS: its default export arrives as the module object under Node's ESM loader.
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

export type Dialect = 'draft-07' | '2020-12';

/** Which schemas: inline ones are held to ajv's strict mode (a typo is an error); OpenAPI ones ignore unknown keywords and formats, as OpenAPI asks. */
export interface SchemaOptions {
  readonly dialect: Dialect;
  readonly strict: boolean;
  /** Query strings: values are coerced to the schema's types, repeated keys may be arrays (ajv coerceTypes: 'array'). */
  readonly coerce: boolean;
}

/**
 * Compiles JSON Schemas with ajv (ajv-formats included), one ajv instance per (dialect,
 * strictness, coercion), all at start: the hot path only calls the compiled functions. Shared
 * schemas (an OpenAPI document's components) are added to every non-strict instance.
 */
export class SchemaCompiler {
  readonly #instances = new Map<string, Ajv>();
  readonly #shared: Record<string, unknown>[] = [];

  /** A schema others refer to by its `$id` (an OpenAPI document's components). */
  addShared(schema: Record<string, unknown>): void {
    this.#shared.push(schema);
    for (const [key, ajv] of this.#instances) if (!key.endsWith('|strict')) ajv.addSchema(schema);
  }

  /** Compiles `schema`; a bad one is ZTMESH_VALIDATION_BAD_SCHEMA naming `file` and `where`. */
  compile(schema: unknown, options: SchemaOptions, file: string, where: string): ValidateFunction {
    try {
      return this.#ajv(options).compile(schema as Record<string, unknown> | boolean);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new MeshError('ZTMESH_VALIDATION_BAD_SCHEMA', `${file}: ${where}: schema does not compile: ${reason}`, { cause: err, details: { file, where } });
    }
  }

  #ajv(o: SchemaOptions): Ajv {
    const key = `${o.dialect}|${o.coerce ? 'coerce' : 'exact'}|${o.strict ? 'strict' : 'lax'}`;
    let ajv = this.#instances.get(key);
    if (ajv !== undefined) return ajv;
    // Strict: unknown keywords and formats are errors (a typo must not silently validate nothing); the
    // pedantic checks (strictTypes, strictRequired, strictTuples) stay off. `logger: false`: ajv never writes to the console.
    const opts = {
      strictSchema: o.strict, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false,
      allErrors: false, logger: false as const, coerceTypes: o.coerce ? ('array' as const) : false,
    };
    ajv = o.dialect === '2020-12' ? new Ajv2020(opts) : new Ajv(opts);
    addFormats(ajv);
    if (!o.strict) for (const s of this.#shared) ajv.addSchema(s);
    this.#instances.set(key, ajv);
    return ajv;
  }
}
