import { refusal, type Refusal } from '../errors/refusal.ts';
import type { DeclaredRoute } from '../inventory/declared-routes.ts';
import { BODY_OTHER, BODY_UNSUPPORTED, BodyCheck } from './body-check.ts';
import { readOpenApi, type OpenApiDocument } from './openapi-operations.ts';
import { COMPONENTS_ID } from './openapi-schema.ts';
import { QueryCheck } from './query-check.ts';
import type { RequestValidationConfig } from './request-validation-config.ts';
import { RouteMatcher } from './route-matcher.ts';
import { SchemaCompiler, type Dialect } from './schema-compiler.ts';

/** What validation reads of a request (an InboundRequest: normalized path, header lookup). */
export interface ValidatedRequest {
  readonly method: string;
  readonly path: string;
  header(name: string): string | undefined;
}

/** One declared route with what its requests must fit (either check may be absent). */
export class ValidationRoute {
  readonly method: string;
  readonly path: string;
  readonly query: QueryCheck | undefined;
  readonly body: BodyCheck | undefined;

  constructor(method: string, path: string, query: QueryCheck | undefined, body: BodyCheck | undefined) {
    this.method = method;
    this.path = path;
    this.query = query;
    this.body = body;
  }
}

/**
 * The workload's declared API with its compiled schemas, shared by HTTP/1.1 and HTTP/2: per
 * request one route lookup (RouteMatcher: by method and segment count), then the query check if
 * the route has a query schema; a route with a body schema hands back its BodyCheck, so that only
 * its body is buffered and checked whole before the app sees it.
 */
export class RequestValidator {
  readonly refuseUndeclared: boolean;
  /** Largest body buffered for validation (the data plane takes the minimum with the route's own limit). */
  readonly maxBodyBytes: number;
  /** The declared API, for the inventory's shadow/zombie report. */
  readonly declared: readonly DeclaredRoute[];
  readonly #matcher: RouteMatcher<ValidationRoute>;

  constructor(routes: readonly ValidationRoute[], refuseUndeclared: boolean, maxBodyBytes: number) {
    this.refuseUndeclared = refuseUndeclared;
    this.maxBodyBytes = maxBodyBytes;
    this.#matcher = new RouteMatcher();
    const declared: DeclaredRoute[] = [];
    for (const r of routes) if (this.#matcher.add(r.method, r.path, r)) declared.push({ method: r.method, route: r.path });
    this.declared = declared;
  }

  /** The declared route a request goes to, or undefined. */
  route(method: string, path: string): ValidationRoute | undefined {
    return this.#matcher.match(method, path);
  }

  /**
   * The checks that need only the head: `req.path` is the normalized path, `target` the normalized
   * target with its query; `hasBody` is undefined when not known yet (HTTP/2). Returns undefined
   * (go on), a refusal, or the BodyCheck the whole body must pass before it is forwarded.
   */
  check(req: ValidatedRequest, target: string, hasBody: boolean | undefined): Refusal | BodyCheck | undefined {
    const { method, path } = req;
    const route = this.#matcher.match(method, path);
    if (route === undefined) {
      if (!this.refuseUndeclared) return undefined;
      return refusal(403, 'ZTMESH_VALIDATION_UNDECLARED_ROUTE', `${method} ${JSON.stringify(path.length > 100 ? `${path.slice(0, 100)}...` : path)} is not a route of this workload's declared API`);
    }
    if (route.query !== undefined) {
      const refused = route.query.check(target);
      if (refused !== undefined) return refused;
    }
    const body = route.body;
    if (body === undefined) return undefined;
    if (hasBody === false) return body.missing();
    const kind = body.classify(req.header('content-type'));
    if (kind === BODY_OTHER) return undefined;
    if (kind === BODY_UNSUPPORTED && hasBody === true) return body.unsupported();
    return body;
  }
}

/**
 * Builds the RequestValidator of a `requestValidation` config: reads the OpenAPI document and
 * compiles every schema now, once. A document that cannot be read or honoured is
 * ZTMESH_VALIDATION_BAD_OPENAPI, a schema that does not compile ZTMESH_VALIDATION_BAD_SCHEMA, both
 * naming the file and the path in it. Inline routes come first: they win over an OpenAPI
 * operation of the same method and template.
 */
export function compileRequestValidation(config: RequestValidationConfig): RequestValidator {
  const compiler = new SchemaCompiler();
  const routes: ValidationRoute[] = [];
  config.routes.forEach((r, i) => {
    const where = `requestValidation.routes[${i}]`;
    const label = `${r.method} ${r.path}`;
    const opts = { dialect: '2020-12' as Dialect, strict: true };
    const query = r.query === undefined ? undefined : new QueryCheck(compiler.compile(r.query, { ...opts, coerce: true }, config.source, `${where}.query`), new Map(), label);
    const body = r.body === undefined ? undefined : new BodyCheck(compiler.compile(r.body, { ...opts, coerce: false }, config.source, `${where}.body`), true, ['application/json'], label);
    routes.push(new ValidationRoute(r.method, r.path, query, body));
  });
  if (config.openapi !== undefined) routes.push(...openApiRoutes(readOpenApi(config.openapi), compiler));
  return new RequestValidator(routes, config.refuseUndeclared, config.maxBodyBytes);
}

function openApiRoutes(doc: OpenApiDocument, compiler: SchemaCompiler): ValidationRoute[] {
  if (doc.components !== undefined) {
    compiler.addShared(doc.components);
    // Each component compiled on its own first, so that a bad one is named where it is written.
    const defs = doc.components['$defs'] as Record<string, unknown>;
    for (const name of Object.keys(defs)) {
      compiler.compile({ $ref: `${COMPONENTS_ID}#/$defs/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` }, { dialect: doc.dialect, strict: false, coerce: false }, doc.file, `components.schemas.${name}`);
    }
  }
  return doc.operations.map((op) => {
    const label = `${op.method} ${op.path}`;
    const opts = { dialect: doc.dialect, strict: false };
    const query = op.query === undefined ? undefined : new QueryCheck(compiler.compile(op.query.schema, { ...opts, coerce: true }, doc.file, `${op.where}.parameters`), op.query.delimited, label);
    const body =
      op.body === undefined
        ? undefined
        : new BodyCheck(compiler.compile(op.body.schema, { ...opts, coerce: false }, doc.file, `${op.where}.requestBody`), op.body.required, op.body.mediaTypes, label);
    return new ValidationRoute(op.method, op.path, query, body);
  });
}
