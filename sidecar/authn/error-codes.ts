import { defineCodes } from '../../core/errors/code-registry.ts';

/** End-user JWT authentication (RequestAuthentication). Every `invalid` result maps to HTTP 401. */
export const authnCodes = defineCodes('AUTHN', {
  ZTMESH_AUTHN_BAD_CONFIG: 'A RequestAuthentication config is invalid (schema, unreadable or malformed JWKS, unsafe algorithm or JWKS URL).',
  ZTMESH_AUTHN_MALFORMED_TOKEN: 'A bearer token is not a well-formed compact JWS/JWT, or is too large.',
  ZTMESH_AUTHN_MULTIPLE_TOKENS: 'A request carries more than one token; exactly one is accepted.',
  ZTMESH_AUTHN_UNKNOWN_ISSUER: 'A token\'s issuer (iss) is not one of the configured jwtRules issuers.',
  ZTMESH_AUTHN_ALG_NOT_ALLOWED: 'A token is signed with an algorithm outside the rule\'s allow-list (never "none", never HMAC).',
  ZTMESH_AUTHN_UNKNOWN_KEY: 'No JWKS key matches the token\'s kid/alg, even after a (rate-limited) JWKS refresh.',
  ZTMESH_AUTHN_BAD_SIGNATURE: 'A token\'s signature does not verify with the issuer\'s key.',
  ZTMESH_AUTHN_TOKEN_EXPIRED: 'A token\'s exp is in the past (beyond the configured clock skew).',
  ZTMESH_AUTHN_WRONG_AUDIENCE: 'A token\'s aud does not include any of the rule\'s audiences.',
  ZTMESH_AUTHN_CLAIM_INVALID: 'A token\'s registered claims are invalid (nbf in the future, missing sub, bad iat...).',
  ZTMESH_AUTHN_JWKS_UNAVAILABLE: 'The issuer\'s JWKS could not be fetched (timeout, HTTP error, invalid JSON); the request is refused.',
});
