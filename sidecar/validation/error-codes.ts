import { defineCodes } from '../../core/errors/code-registry.ts';

/** Per-route request validation (`requestValidation`: JSON Schema / OpenAPI 3) and declared-API conformance. */
export const validationCodes = defineCodes('VALIDATION', {
  ZTMESH_VALIDATION_BODY_INVALID: 'The JSON request body does not fit the route\'s schema, or a required body is missing (400; the message gives the first schema error as instancePath and message, never the offending value).',
  ZTMESH_VALIDATION_QUERY_INVALID: 'The query string does not fit the route\'s query schema (400; the message gives the first schema error as instancePath and message, never the offending value).',
  ZTMESH_VALIDATION_MALFORMED_JSON: 'A request body that must be validated is not well-formed JSON (400).',
  ZTMESH_VALIDATION_UNSUPPORTED_MEDIA_TYPE: 'A request to a route with a body schema carries a body whose Content-Type is not JSON, nor another media type the route declares (415).',
  ZTMESH_VALIDATION_UNDECLARED_ROUTE: 'refuseUndeclared is on and the request\'s method and path match no route of the workload\'s declared API (403).',
  ZTMESH_VALIDATION_BAD_SCHEMA: 'A requestValidation schema (inline, or in the OpenAPI document) does not compile; the error names the file and the JSON path.',
  ZTMESH_VALIDATION_BAD_OPENAPI: 'The requestValidation.openapi file cannot be read, is not an OpenAPI 3.0/3.1 document, or uses an unsupported $ref (external, or not under #/components).',
});

export type ValidationCode = keyof typeof validationCodes;
