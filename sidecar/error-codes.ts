import { defineCodes } from '../core/errors/code-registry.ts';

/** Codes of the sidecar data plane: refusals it answers itself, and TLS/identity failures. */
export const sidecarCodes = defineCodes('SIDECAR', {
  ZTMESH_SIDECAR_BAD_SVID: 'This workload\'s own SVID (certificate chain, key or bundle) is invalid; the sidecar cannot serve with it.',
  ZTMESH_SIDECAR_BAD_REQUEST_LINE: 'The request line is not "METHOD SP target SP HTTP/1.1|HTTP/1.0" (extra spaces, HTTP/0.9, HTTP/2.0 over HTTP/1, bad method token).',
  ZTMESH_SIDECAR_BAD_HEADER: 'A header name or value has invalid bytes (space before colon, control character, NUL, non-token name).',
  ZTMESH_SIDECAR_OBS_FOLD: 'A header line starts with a space or tab (obsolete line folding), refused.',
  ZTMESH_SIDECAR_BARE_LF: 'A line of the request head ends with LF alone or holds a lone CR, refused.',
  ZTMESH_SIDECAR_BAD_CONTENT_LENGTH: 'Content-Length is not a plain decimal number, or appears more than once.',
  ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING: 'Transfer-Encoding is anything other than exactly one "chunked" (or appears on HTTP/1.0).',
  ZTMESH_SIDECAR_CL_AND_TE: 'A request carries both Content-Length and Transfer-Encoding (request smuggling shape), refused.',
  ZTMESH_SIDECAR_BAD_CHUNK: 'A chunked body has a bad chunk size, chunk extension, missing CRLF after chunk data, or bad trailer.',
  ZTMESH_SIDECAR_BAD_HOST: 'The Host header is missing on HTTP/1.1, repeated, or not a valid authority.',
  ZTMESH_SIDECAR_BAD_TARGET: 'The request target form is not allowed here (absolute-form only on outbound, no CONNECT or asterisk-form).',
  ZTMESH_SIDECAR_UNSUPPORTED_EXPECT: 'An Expect header other than 100-continue, refused with 417.',
  ZTMESH_SIDECAR_HEADERS_TOO_LARGE: 'The request line and headers exceed the header byte limit (431).',
  ZTMESH_SIDECAR_TOO_MANY_HEADERS: 'The request has more header lines than the header count limit (431).',
  ZTMESH_SIDECAR_HEADERS_TIMEOUT: 'The client did not send a complete request head within the headers timeout (408).',
  ZTMESH_SIDECAR_REQUEST_TIMEOUT: 'The client stalled while sending the request body for longer than the request timeout (408).',
  ZTMESH_SIDECAR_BODY_TOO_LARGE: 'The request body exceeds the body size limit (413).',
  ZTMESH_SIDECAR_TOO_MANY_CONNECTIONS: 'The peer already holds the maximum number of connections; the new one was closed.',
  ZTMESH_SIDECAR_DENIED: 'Authorization policy denied the request (403; the policy reason is in the message).',
  ZTMESH_SIDECAR_NO_POLICY: 'No valid authorization policy is loaded: every request is denied (fail closed, 403).',
  ZTMESH_SIDECAR_SOURCE_NOT_ALLOWED: 'A connection came from a source address outside inbound.allowedSourceCidrs; it was reset before the TLS handshake.',
  ZTMESH_SIDECAR_PEER_DENIED: 'The peer identity or certificate serial is on the deny list; its connection was refused.',
  ZTMESH_SIDECAR_NO_ROUTE: 'The outbound request\'s authority names no configured service (503).',
  ZTMESH_SIDECAR_UPSTREAM_REFUSED: 'The upstream (app or peer sidecar) refused or reset the connection before answering (502/503).',
  ZTMESH_SIDECAR_UPSTREAM_TIMEOUT: 'The upstream did not answer, or stalled mid-response, within the upstream timeout (504).',
  ZTMESH_SIDECAR_UPSTREAM_BAD_RESPONSE: 'The upstream answered with a malformed HTTP/1.1 response head or body framing (502).',
  ZTMESH_SIDECAR_WRONG_PEER_IDENTITY: 'The destination sidecar\'s SVID is valid but is not the identity configured for the service (502).',
  ZTMESH_SIDECAR_PEER_TLS_FAILED: 'The mTLS handshake with the destination sidecar failed (untrusted chain, bad SVID, protocol) (502).',
  ZTMESH_SIDECAR_NO_CREDENTIALS: 'The sidecar holds no valid SVID: it refuses new connections (fail closed, 503).',
  ZTMESH_SIDECAR_DRAINING: 'The sidecar is shutting down and no longer takes new requests (503).',
  ZTMESH_SIDECAR_INTERNAL: 'An unexpected internal error while proxying (500); logged as a warning.',
});

export type SidecarCode = keyof typeof sidecarCodes;
