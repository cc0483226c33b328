import type { ValidateFunction } from 'ajv';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { schemaErrorText } from './schema-error-text.ts';

/**
 * The query half of one route's validation, compiled once: the query string (form-decoded, a
 * repeated key an array, a delimited array parameter split) as an object, checked against its
 * schema with values coerced to the schema's types. Only routes with a query schema have one.
 */
export class QueryCheck {
  readonly #validate: ValidateFunction;
  /** Array parameters sent as one delimited value (OpenAPI `explode: false`, spaceDelimited, pipeDelimited). */
  readonly #delimited: ReadonlyMap<string, string>;
  readonly #label: string;

  constructor(validate: ValidateFunction, delimited: ReadonlyMap<string, string>, label: string) {
    this.#validate = validate;
    this.#delimited = delimited;
    this.#label = label;
  }

  /** `target` is the normalized origin-form target (path and query as received). */
  check(target: string): Refusal | undefined {
    const q = target.indexOf('?');
    const query: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    if (q >= 0) {
      for (const [key, value] of new URLSearchParams(target.slice(q + 1))) {
        const prev = query[key];
        if (prev === undefined) query[key] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else query[key] = [prev, value];
      }
      for (const [name, separator] of this.#delimited) {
        const v = query[name];
        if (typeof v === 'string') query[name] = v.split(separator);
      }
    }
    let ok: boolean;
    try {
      ok = this.#validate(query) as boolean;
    } catch {
      // Never thrown at the connection: refused like any misfit.
      return refusal(400, 'ZTMESH_VALIDATION_QUERY_INVALID', `${this.#label}: query could not be validated`);
    }
    if (ok) return undefined;
    return refusal(400, 'ZTMESH_VALIDATION_QUERY_INVALID', `${this.#label}: query does not fit the schema: ${schemaErrorText(this.#validate.errors)}`);
  }
}
