import { z } from 'zod';

export const VALIDATION_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'] as const;

/** A JSON Schema as written in YAML: an object or a boolean. Compiled (and checked) by ajv at start. */
const jsonSchema = z.union([z.boolean(), z.record(z.string(), z.unknown())]);

/** `/orders/{id}`, `/files/{name}.json`: a path template, parameters in braces, no query. */
const pathTemplate = z
  .string()
  .max(2048)
  .regex(/^\/[^\s?#{}]*(\{[A-Za-z0-9_.-]+\}[^\s?#{}]*)*$/, 'must be a path starting with "/" with {param} templates and no query');

export const validationRouteSchema = z.strictObject({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(VALIDATION_METHODS)),
  path: pathTemplate,
  /** JSON Schema (2020-12) of the JSON request body; a request to this route must then carry one. */
  body: jsonSchema.optional(),
  /** JSON Schema (2020-12) of the query string as an object (repeated keys: arrays; values coerced to the schema's types). */
  query: jsonSchema.optional(),
});

/** Config: `requestValidation`, the workload's declared API and the schemas its requests must fit. */
export const requestValidationSchema = z
  .strictObject({
    /** The workload's declared API: an OpenAPI 3.0 or 3.1 document (YAML or JSON), relative to the config file. */
    openapi: z.string().min(1).optional(),
    /** Routes declared inline, with JSON Schemas; they take precedence over the OpenAPI operation of the same method and path. */
    routes: z.array(validationRouteSchema).max(10_000).default([]),
    /** Refuse requests to routes the declared API does not have (403); off by default. */
    refuseUndeclared: z.boolean().default(false),
    /** Largest request body buffered for validation (413 past it); a route's inbound body limit can only lower it. */
    maxBodyBytes: z.int().min(1).max(64 * 1024 * 1024).default(1024 * 1024),
  })
  .superRefine((v, ctx) => {
    if (v.refuseUndeclared && v.openapi === undefined && v.routes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['refuseUndeclared'], message: 'declares no API (no openapi, no routes): it would refuse every request' });
    }
  });

export type RequestValidationInput = z.output<typeof requestValidationSchema>;

/** The validated config, the OpenAPI path resolved against the config file's directory. */
export interface RequestValidationConfig {
  readonly openapi: string | undefined;
  readonly routes: RequestValidationInput['routes'];
  readonly refuseUndeclared: boolean;
  readonly maxBodyBytes: number;
  /** The config file, named in schema errors of inline routes. */
  readonly source: string;
}
