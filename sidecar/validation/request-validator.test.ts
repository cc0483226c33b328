import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { isRefusal, type Refusal } from '../errors/refusal.ts';
import { BodyCheck, decodeChunked } from './body-check.ts';
import type { RequestValidationConfig } from './request-validation-config.ts';
import { compileRequestValidation, type RequestValidator, type ValidatedRequest } from './request-validator.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-validation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function config(over: Partial<RequestValidationConfig>): RequestValidationConfig {
  return { openapi: undefined, routes: [], refuseUndeclared: false, maxBodyBytes: 1 << 20, source: '/etc/ztmesh/sidecar.yaml', ...over };
}

const OPENAPI_30 = `
openapi: 3.0.3
info: { title: orders, version: "1" }
paths:
  /orders:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: status, in: query, required: true, schema: { type: string, enum: [open, closed] } }
        - { name: ids, in: query, explode: false, schema: { type: array, items: { type: integer } } }
      responses: { "200": { description: ok } }
    post:
      requestBody:
        required: true
        content:
          application/json: { schema: { $ref: "#/components/schemas/NewOrder" } }
          multipart/form-data: { schema: { type: object } }
      responses: { "201": { description: created } }
  /orders/{orderId}:
    parameters: [{ $ref: "#/components/parameters/OrderId" }]
    get: { responses: { "200": { description: ok } } }
    patch:
      requestBody: { $ref: "#/components/requestBodies/Patch" }
      responses: { "200": { description: ok } }
components:
  parameters:
    OrderId: { name: orderId, in: path, required: true, schema: { type: string } }
  requestBodies:
    Patch:
      content: { application/merge-patch+json: { schema: { type: object, properties: { note: { type: string, nullable: true } }, additionalProperties: false } } }
  schemas:
    NewOrder:
      type: object
      required: [item, qty]
      properties:
        item: { type: string, minLength: 1 }
        qty: { type: integer, minimum: 0, exclusiveMinimum: true, example: 3 }
        email: { type: string, format: email }
        lines: { type: array, items: { $ref: "#/components/schemas/Line" } }
    Line: { type: object, required: [sku], properties: { sku: { type: string, pattern: "^[A-Z]{3}$" } } }
`;

function req(method: string, path: string, contentType: string | undefined): ValidatedRequest {
  return { method, path, header: (name) => (name === 'content-type' ? contentType : undefined) };
}

function refusalOf(v: Refusal | BodyCheck | undefined): Refusal {
  if (!isRefusal(v)) throw new Error(`expected a refusal, got ${String(v)}`);
  return v;
}

function bodyCheckOf(v: Refusal | BodyCheck | undefined): BodyCheck {
  if (!(v instanceof BodyCheck)) throw new Error(`expected a body check, got ${JSON.stringify(v)}`);
  return v;
}

function runBody(v: RequestValidator, method: string, path: string, body: string, contentType = 'application/json'): Refusal | string {
  const check = bodyCheckOf(v.check(req(method, path, contentType), path, true));
  const out = check.run(Buffer.from(body), false, contentType);
  return isRefusal(out) ? out : out.toString();
}

describe('compileRequestValidation with an OpenAPI 3.0 document', () => {
  const v = compileRequestValidation(config({ openapi: file('orders-30.yaml', OPENAPI_30) }));

  it('declares every operation (for the inventory), with its template', () => {
    expect(v.declared).toEqual([
      { method: 'GET', route: '/orders' },
      { method: 'POST', route: '/orders' },
      { method: 'GET', route: '/orders/{orderId}' },
      { method: 'PATCH', route: '/orders/{orderId}' },
    ]);
  });

  it('validates the query: types coerced, enums, required, delimited arrays', () => {
    expect(v.check(req('GET', '/orders', undefined), '/orders?status=open&limit=10&ids=1,2,3', false)).toBeUndefined();
    const r = refusalOf(v.check(req('GET', '/orders', undefined), '/orders?status=open&limit=1000', false));
    expect(r).toMatchObject({ status: 400, code: 'ZTMESH_VALIDATION_QUERY_INVALID' });
    expect(r.message).toContain('/limit must be <= 100');
    expect(refusalOf(v.check(req('GET', '/orders', undefined), '/orders?limit=5', false)).message).toContain("must have required property 'status'");
    expect(refusalOf(v.check(req('GET', '/orders', undefined), '/orders?status=open&ids=1,x', false)).message).toContain('/ids/1 must be integer');
    expect(refusalOf(v.check(req('GET', '/orders', undefined), '/orders?status=pending', false)).message).toContain('must be equal to one of the allowed values');
  });

  it('validates JSON bodies against $ref-ed components, without echoing the offending value', () => {
    expect(runBody(v, 'POST', '/orders', '{"item":"book","qty":2,"lines":[{"sku":"ABC"}]}')).toBe('{"item":"book","qty":2,"lines":[{"sku":"ABC"}]}');
    const bad = runBody(v, 'POST', '/orders', '{"item":"book","qty":2,"lines":[{"sku":"secret-value-xyz"}]}') as Refusal;
    expect(bad).toMatchObject({ status: 400, code: 'ZTMESH_VALIDATION_BODY_INVALID' });
    expect(bad.message).toContain('/lines/0/sku must match pattern');
    expect(bad.message).not.toContain('secret-value-xyz');
    // OpenAPI 3.0's boolean exclusiveMinimum: qty > 0.
    expect((runBody(v, 'POST', '/orders', '{"item":"book","qty":0}') as Refusal).message).toContain('/qty must be > 0');
    expect((runBody(v, 'POST', '/orders', '{"item":"b","qty":1,"email":"not-an-email"}') as Refusal).message).toContain('/email must match format "email"');
    expect(runBody(v, 'POST', '/orders', '{"item":')).toMatchObject({ status: 400, code: 'ZTMESH_VALIDATION_MALFORMED_JSON' });
  });

  it('requires a declared body, takes other declared media types unvalidated, refuses undeclared ones with 415', () => {
    expect(refusalOf(v.check(req('POST', '/orders', undefined), '/orders', false))).toMatchObject({ status: 400, code: 'ZTMESH_VALIDATION_BODY_INVALID' });
    expect(v.check(req('POST', '/orders', 'multipart/form-data; boundary=x'), '/orders', true)).toBeUndefined();
    expect(refusalOf(v.check(req('POST', '/orders', 'text/plain'), '/orders', true))).toMatchObject({ status: 415, code: 'ZTMESH_VALIDATION_UNSUPPORTED_MEDIA_TYPE' });
    expect(refusalOf(v.check(req('POST', '/orders', undefined), '/orders', true)).status).toBe(415);
    // Unknown presence (HTTP/2 without content-length): the body is read, then judged.
    const h2 = bodyCheckOf(v.check(req('POST', '/orders', undefined), '/orders', undefined));
    expect(h2.run(Buffer.alloc(0), false, undefined)).toMatchObject({ code: 'ZTMESH_VALIDATION_BODY_INVALID' });
  });

  it('follows $refs to parameters and request bodies, and maps nullable', () => {
    expect(v.check(req('GET', '/orders/17', undefined), '/orders/17', false)).toBeUndefined();
    const patch = (body: string) => runBody(v, 'PATCH', '/orders/17', body, 'application/merge-patch+json');
    expect(patch('{"note":null}')).toBe('{"note":null}');
    expect(patch('{"note":"x"}')).toBe('{"note":"x"}');
    expect((patch('{"note":3}') as Refusal).message).toContain('/note must be string,null');
    expect((patch('{"other":1}') as Refusal).message).toContain('must NOT have additional properties');
    // An optional body may be absent.
    expect(v.check(req('PATCH', '/orders/17', undefined), '/orders/17', false)).toBeUndefined();
  });

  it('passes undeclared routes unless refuseUndeclared', () => {
    expect(v.check(req('DELETE', '/orders/17', undefined), '/orders/17', false)).toBeUndefined();
    const strict = compileRequestValidation(config({ openapi: file('orders-30b.yaml', OPENAPI_30), refuseUndeclared: true }));
    expect(refusalOf(strict.check(req('DELETE', '/orders/17', undefined), '/orders/17', false))).toMatchObject({ status: 403, code: 'ZTMESH_VALIDATION_UNDECLARED_ROUTE' });
    expect(strict.check(req('GET', '/orders/17', undefined), '/orders/17', false)).toBeUndefined();
  });
});

describe('compileRequestValidation with OpenAPI 3.1 and inline routes', () => {
  it('compiles 3.1 schemas as JSON Schema 2020-12 (type arrays, prefixItems)', () => {
    const doc = file('items-31.json', JSON.stringify({
      openapi: '3.1.0', info: { title: 'items', version: '1' },
      paths: { '/pairs': { put: { requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pair' } } } }, responses: {} } } },
      components: { schemas: { Pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: ['integer', 'null'] }], items: false } } },
    }));
    const v = compileRequestValidation(config({ openapi: doc }));
    expect(runBody(v, 'PUT', '/pairs', '["a",null]')).toBe('["a",null]');
    expect((runBody(v, 'PUT', '/pairs', '["a",1,2]') as Refusal).code).toBe('ZTMESH_VALIDATION_BODY_INVALID');
  });

  it('lets inline routes win over the OpenAPI operation of the same method and template', () => {
    const v = compileRequestValidation(config({
      openapi: file('orders-30c.yaml', OPENAPI_30),
      routes: [{ method: 'POST', path: '/orders', body: { type: 'object', required: ['sku'] } }],
    }));
    expect(runBody(v, 'POST', '/orders', '{"sku":"x"}')).toBe('{"sku":"x"}');
    expect(v.declared.filter((r) => r.method === 'POST' && r.route === '/orders')).toHaveLength(1);
    // Inline bodies are JSON only.
    expect(refusalOf(v.check(req('POST', '/orders', 'multipart/form-data'), '/orders', true)).status).toBe(415);
  });

  it('routes without schemas pay nothing: no body check, no query check', () => {
    const v = compileRequestValidation(config({ routes: [{ method: 'GET', path: '/health' }] }));
    expect(v.check(req('GET', '/health', undefined), '/health?x=1', false)).toBeUndefined();
    expect(v.route('GET', '/health')).toMatchObject({ query: undefined, body: undefined });
  });
});

describe('compileRequestValidation refuses what it cannot honour, naming the file and the path', () => {
  function failure(c: RequestValidationConfig): MeshError {
    try {
      compileRequestValidation(c);
    } catch (err) {
      if (err instanceof MeshError) return err;
      throw err;
    }
    throw new Error('compiled');
  }

  it('an inline schema that does not compile (strict: unknown keywords are errors)', () => {
    const err = failure(config({ routes: [{ method: 'POST', path: '/a', body: { type: 'object', propertiez: {} } }] }));
    expect(err.code).toBe('ZTMESH_VALIDATION_BAD_SCHEMA');
    expect(err.message).toContain('/etc/ztmesh/sidecar.yaml: requestValidation.routes[0].body');
    expect(failure(config({ routes: [{ method: 'GET', path: '/a', query: { type: 'nope' } }] })).message).toContain('routes[0].query');
  });

  it('an unreadable or non-OpenAPI document', () => {
    const missing = failure(config({ openapi: join(dir, 'absent.yaml') }));
    expect(missing.code).toBe('ZTMESH_VALIDATION_BAD_OPENAPI');
    expect(missing.message).toContain('absent.yaml');
    expect(missing.message).toContain('ENOENT');
    expect(failure(config({ openapi: file('swagger.yaml', 'swagger: "2.0"\npaths: {}\n') })).message).toContain('OpenAPI 3.0.x or 3.1.x required');
  });

  it('external $refs, $refs outside components, dangling $refs, and schemas that do not compile', () => {
    const op = (schema: unknown) => JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema } } }, responses: {} } } } });
    const external = failure(config({ openapi: file('ext.json', op({ $ref: 'other.yaml#/components/schemas/A' })) }));
    expect(external.code).toBe('ZTMESH_VALIDATION_BAD_OPENAPI');
    expect(external.message).toContain('paths./x.post.requestBody.content.application/json.schema');
    expect(failure(config({ openapi: file('paths-ref.json', op({ $ref: '#/paths/~1x' })) })).code).toBe('ZTMESH_VALIDATION_BAD_OPENAPI');
    const dangling = failure(config({ openapi: file('dangling.json', op({ $ref: '#/components/schemas/Nope' })) }));
    expect(dangling.code).toBe('ZTMESH_VALIDATION_BAD_SCHEMA');
    expect(dangling.message).toContain('dangling.json: paths./x.post.requestBody');
    expect(failure(config({ openapi: file('bad-type.json', op({ type: 'object', properties: { a: { minimum: 'one' } } })) })).code).toBe('ZTMESH_VALIDATION_BAD_SCHEMA');
  });
});

describe('decodeChunked', () => {
  it('joins the chunk data, ignoring extensions and trailers', () => {
    expect(decodeChunked(Buffer.from('4;ext=1\r\n{"a"\r\na\r\n:12345678}\r\n0\r\nx-trailer: 1\r\n\r\n')).toString()).toBe('{"a":12345678}');
    expect(decodeChunked(Buffer.from('0\r\n\r\n')).length).toBe(0);
  });
});

describe('BodyCheck on hostile input', () => {
  it('refuses a body nested too deeply for a recursive schema instead of throwing', () => {
    const v = compileRequestValidation(config({
      routes: [{ method: 'POST', path: '/tree', body: { $defs: { node: { type: 'array', items: { $ref: '#/$defs/node' } } }, $ref: '#/$defs/node' } }],
    }));
    const check = bodyCheckOf(v.check(req('POST', '/tree', 'application/json'), '/tree', true));
    const depth = 200_000;
    const out = check.run(Buffer.from('['.repeat(depth) + ']'.repeat(depth)), false, 'application/json');
    expect(isRefusal(out) ? [out.status, out.code, out.message] : out).toEqual([400, 'ZTMESH_VALIDATION_BODY_INVALID', 'POST /tree: request body is nested too deeply to validate']);
    expect(check.run(Buffer.from('[[],[[]]]'), false, 'application/json')).toEqual(Buffer.from('[[],[[]]]'));
  });
});
