import type { ValidateFunction } from 'ajv';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { schemaErrorText } from './schema-error-text.ts';

/** How a request's Content-Type relates to a route's body schema. */
export const BODY_JSON = 0; // validate it
export const BODY_OTHER = 1; // another media type the route declares: forwarded unvalidated
export const BODY_UNSUPPORTED = 2; // 415 when a body is present

/** `application/json`, `application/problem+json`: media types whose bodies are parsed as JSON. */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** `Application/JSON; charset=utf-8` -> `application/json`. */
function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * The body half of one route's validation, compiled once: which media types it takes, whether a
 * body is required, and the JSON Schema the parsed body must fit. `run` gets the whole body as
 * received (decoding chunked framing itself) and returns the bytes to forward, unchanged, or the
 * refusal. Only routes with a body schema have one, so only their bodies are ever buffered.
 */
export class BodyCheck {
  readonly required: boolean;
  readonly #validate: ValidateFunction;
  /** Declared media types other than JSON (exact `type/subtype`, or ranges `type/*`, `*\/*`). */
  readonly #others: readonly string[];
  readonly #missing: Refusal;
  readonly #unsupported: Refusal;
  readonly #label: string;

  constructor(validate: ValidateFunction, required: boolean, declaredMediaTypes: readonly string[], label: string) {
    this.#validate = validate;
    this.required = required;
    this.#others = declaredMediaTypes.filter((m) => !isJsonMediaType(m));
    this.#label = label;
    this.#missing = refusal(400, 'ZTMESH_VALIDATION_BODY_INVALID', `${label} requires a JSON request body`);
    this.#unsupported = refusal(415, 'ZTMESH_VALIDATION_UNSUPPORTED_MEDIA_TYPE', `${label} takes ${['application/json', ...this.#others].join(', ')} request bodies`);
  }

  /** The refusal for a request without a body (undefined when the body is optional). */
  missing(): Refusal | undefined {
    return this.required ? this.#missing : undefined;
  }

  /** BODY_JSON, BODY_OTHER or BODY_UNSUPPORTED for the request's Content-Type. */
  classify(contentType: string | undefined): number {
    if (contentType === undefined) return BODY_UNSUPPORTED;
    const type = mediaType(contentType);
    if (isJsonMediaType(type)) return BODY_JSON;
    for (const other of this.#others) {
      if (other === type || other === '*/*' || (other.endsWith('/*') && type.startsWith(other.slice(0, -1)))) return BODY_OTHER;
    }
    return BODY_UNSUPPORTED;
  }

  unsupported(): Refusal {
    return this.#unsupported;
  }

  /**
   * Checks a whole request body (`raw` as framed on the wire; `chunked` decodes it first): the
   * decoded bytes to forward, or the refusal (400 malformed JSON or schema error, 415 not JSON).
   */
  run(raw: Buffer, chunked: boolean, contentType: string | undefined): Buffer | Refusal {
    const body = chunked ? decodeChunked(raw) : raw;
    if (body.length === 0) return this.missing() ?? body;
    if (this.classify(contentType) !== BODY_JSON) return this.#unsupported;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return refusal(400, 'ZTMESH_VALIDATION_MALFORMED_JSON', `${this.#label}: the request body is not well-formed JSON`);
    }
    let ok: boolean;
    try {
      ok = this.#validate(value) as boolean;
    } catch {
      // A recursive schema over absurdly deep input can exhaust the stack: refused, never thrown at the connection.
      return refusal(400, 'ZTMESH_VALIDATION_BODY_INVALID', `${this.#label}: request body is nested too deeply to validate`);
    }
    if (ok) return body;
    return refusal(400, 'ZTMESH_VALIDATION_BODY_INVALID', `${this.#label}: request body does not fit the schema: ${schemaErrorText(this.#validate.errors)}`);
  }
}

/**
 * The data of a chunked body that the strict ChunkedScanner already accepted whole (sizes,
 * extensions, CRLFs and trailers are well-formed), so this only walks it: trailers are dropped.
 */
export function decodeChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', i, 'latin1');
    if (lineEnd < 0) break;
    let size = 0;
    for (let k = i; k < lineEnd; k++) {
      const c = raw[k]!;
      const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (v < 0) break; // ';' starts a chunk extension
      size = size * 16 + v;
    }
    if (size === 0) break;
    const start = lineEnd + 2;
    parts.push(raw.subarray(start, start + size));
    i = start + size + 2;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
