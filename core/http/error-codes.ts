import { defineCodes } from '../errors/code-registry.ts';

/** Refusals of request paths by core/http/normalize-path.ts; the sidecar answers each with 400. */
export const httpPathCodes = defineCodes('HTTP', {
  ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM: 'A request path does not start with "/" (origin-form is required after target parsing).',
  ZTMESH_HTTP_PATH_ENCODED_SLASH: 'A request path contains an encoded slash or backslash (%2F, %5C), refused by the strict path normalization.',
  ZTMESH_HTTP_PATH_BACKSLASH: 'A request path contains a raw backslash, refused by the strict path normalization.',
  ZTMESH_HTTP_PATH_CONTROL_CHAR: 'A request path or query contains NUL, a control character, a space, or an encoded control character.',
  ZTMESH_HTTP_PATH_BAD_PERCENT: 'A request path contains a "%" not followed by two hexadecimal digits.',
  ZTMESH_HTTP_PATH_DOT_PARAMS: 'A request path has a dot segment with parameters ("..;x", ".;x"), which some servers resolve as a dot segment.',
  ZTMESH_HTTP_PATH_BAD_CHAR: 'A request path contains a character not allowed in a request target (non-ASCII, or "#").',
});
