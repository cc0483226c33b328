import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { parseDuration } from '../../core/config/duration.ts';
import { validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { requestAuthenticationSchema, type JwtRule, type RequestAuthenticationConfig } from './jwt-config.ts';

/**
 * End-user authentication with JWTs, per workload, built once from its RequestAuthentication
 * config: issuer -> (key set, audiences, algorithms, clock skew). `authenticate` never throws:
 * no token -> `none` (authorization decides), a bad token -> `invalid` with a stable code (the
 * sidecar answers 401), a good one -> the request principal `ISS/SUB` and the claims.
 */

export type AuthnResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly requestPrincipal: string; readonly claims: Readonly<JWTPayload> }
  | { readonly kind: 'invalid'; readonly code: AuthnFailureCode; readonly reason: string };

export type AuthnFailureCode =
  | 'ZTMESH_AUTHN_MALFORMED_TOKEN'
  | 'ZTMESH_AUTHN_MULTIPLE_TOKENS'
  | 'ZTMESH_AUTHN_UNKNOWN_ISSUER'
  | 'ZTMESH_AUTHN_ALG_NOT_ALLOWED'
  | 'ZTMESH_AUTHN_UNKNOWN_KEY'
  | 'ZTMESH_AUTHN_BAD_SIGNATURE'
  | 'ZTMESH_AUTHN_TOKEN_EXPIRED'
  | 'ZTMESH_AUTHN_WRONG_AUDIENCE'
  | 'ZTMESH_AUTHN_CLAIM_INVALID'
  | 'ZTMESH_AUTHN_JWKS_UNAVAILABLE';

export interface JwtAuthenticator {
  /** Header lookup by lowercase name (multiple values joined with ", "). */
  authenticate(header: (name: string) => string | undefined): Promise<AuthnResult>;
}

export interface JwtAuthenticatorOptions {
  /** Clock for exp/nbf checks, ms since the epoch; tests inject a fixed one. */
  readonly now?: () => number;
}

interface CompiledRule {
  readonly rule: JwtRule;
  readonly keys: JWTVerifyGetKey;
  readonly clockSkewSeconds: number;
}

const NONE: AuthnResult = Object.freeze({ kind: 'none' });

function invalid(code: AuthnFailureCode, reason: string): AuthnResult {
  return { kind: 'invalid', code, reason };
}

function badConfig(message: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_AUTHN_BAD_CONFIG', message, { cause });
}

function parseJwks(text: string, where: string): JSONWebKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badConfig(`${where}: JWKS is not valid JSON`, err);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw badConfig(`${where}: JWKS must be an object with a non-empty "keys" array`);
  for (const [i, key] of keys.entries()) {
    const kty = (key as { kty?: unknown } | null)?.kty;
    if (kty === 'oct') throw badConfig(`${where}: keys[${i}] is a symmetric (oct) key; only public keys are accepted`);
    if (key !== null && typeof key === 'object' && 'd' in key) throw badConfig(`${where}: keys[${i}] contains private key material ("d"); publish public keys only`);
  }
  return value as JSONWebKeySet;
}

function keySetFor(rule: JwtRule, config: RequestAuthenticationConfig, index: number): JWTVerifyGetKey {
  const where = `jwtRules[${index}] (${rule.issuer})`;
  if (rule.jwks !== undefined) return createLocalJWKSet(parseJwks(rule.jwks, where));
  if (rule.jwksFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(rule.jwksFile, 'utf8');
    } catch (err) {
      throw badConfig(`${where}: cannot read jwksFile ${rule.jwksFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err);
    }
    return createLocalJWKSet(parseJwks(text, `${where} ${rule.jwksFile}`));
  }
  return createRemoteJWKSet(new URL(rule.jwksUri!), {
    cacheMaxAge: parseDuration(config.jwksCacheDuration),
    cooldownDuration: parseDuration(config.jwksRefreshCooldown),
    timeoutDuration: parseDuration(config.jwksFetchTimeout),
  });
}

/** Validates `config` (throws ZTMESH_CONFIG_INVALID / ZTMESH_AUTHN_BAD_CONFIG) and builds the authenticator. */
export function createJwtAuthenticator(input: unknown, options: JwtAuthenticatorOptions = {}): JwtAuthenticator {
  const config = validateConfig(requestAuthenticationSchema, input, 'RequestAuthentication');
  const byIssuer = new Map<string, CompiledRule>();
  config.jwtRules.forEach((rule, i) => {
    if (byIssuer.has(rule.issuer)) throw badConfig(`jwtRules[${i}]: issuer ${rule.issuer} is configured twice`);
    byIssuer.set(rule.issuer, { rule, keys: keySetFor(rule, config, i), clockSkewSeconds: Math.ceil(parseDuration(rule.clockSkew) / 1000) });
  });
  // Every (header, prefix) any rule reads a token from, deduplicated.
  const locations = [...new Map(config.jwtRules.flatMap((r) => r.fromHeaders).map((h) => [`${h.name.toLowerCase()}\n${h.prefix}`, { name: h.name.toLowerCase(), prefix: h.prefix }])).values()];
  const now = options.now;

  function findToken(header: (name: string) => string | undefined): string | AuthnResult {
    const found: string[] = [];
    for (const { name, prefix } of locations) {
      const value = header(name);
      if (value === undefined) continue;
      // A header without the prefix (e.g. `Authorization: Basic ...`) carries no JWT.
      if (prefix !== '' && value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) continue;
      const token = value.slice(prefix.length).trim();
      if (token.includes(',') || token.includes(' ')) return invalid('ZTMESH_AUTHN_MULTIPLE_TOKENS', `header ${name} carries more than one token`);
      if (!found.includes(token)) found.push(token);
    }
    if (found.length === 0) return NONE;
    if (found.length > 1) return invalid('ZTMESH_AUTHN_MULTIPLE_TOKENS', 'the request carries more than one distinct token');
    return found[0]!;
  }

  async function authenticate(header: (name: string) => string | undefined): Promise<AuthnResult> {
    if (byIssuer.size === 0) return NONE;
    const token = findToken(header);
    if (typeof token !== 'string') return token;
    if (token.length > config.maxTokenBytes) return invalid('ZTMESH_AUTHN_MALFORMED_TOKEN', `token longer than ${config.maxTokenBytes} bytes`);
    let issuer: unknown;
    try {
      const alg = decodeProtectedHeader(token).alg;
      if (typeof alg !== 'string' || alg.toLowerCase() === 'none') return invalid('ZTMESH_AUTHN_ALG_NOT_ALLOWED', 'unsigned token (alg "none")');
      issuer = decodeJwt(token).iss;
    } catch {
      return invalid('ZTMESH_AUTHN_MALFORMED_TOKEN', 'not a compact JWT');
    }
    const compiled = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
    if (compiled === undefined) return invalid('ZTMESH_AUTHN_UNKNOWN_ISSUER', 'token issuer is not accepted by this workload');
    try {
      const { payload } = await jwtVerify(token, compiled.keys, {
        issuer: compiled.rule.issuer,
        audience: compiled.rule.audiences,
        algorithms: compiled.rule.algorithms,
        clockTolerance: compiled.clockSkewSeconds,
        ...(now === undefined ? {} : { currentDate: new Date(now()) }),
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') return invalid('ZTMESH_AUTHN_CLAIM_INVALID', 'token has no sub claim');
      return { kind: 'ok', requestPrincipal: `${compiled.rule.issuer}/${payload.sub}`, claims: Object.freeze(payload) };
    } catch (err) {
      return classify(err);
    }
  }

  return { authenticate };
}

/** Maps jose's errors to our codes; the reason never includes the token. */
function classify(err: unknown): AuthnResult {
  if (err instanceof errors.JWTExpired) return invalid('ZTMESH_AUTHN_TOKEN_EXPIRED', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return invalid('ZTMESH_AUTHN_WRONG_AUDIENCE', 'token audience is not accepted');
    return invalid('ZTMESH_AUTHN_CLAIM_INVALID', `claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid('ZTMESH_AUTHN_ALG_NOT_ALLOWED', 'token algorithm is not allowed');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return invalid('ZTMESH_AUTHN_UNKNOWN_KEY', 'no key matches the token kid/alg');
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('ZTMESH_AUTHN_BAD_SIGNATURE', 'signature verification failed');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return invalid('ZTMESH_AUTHN_JWKS_UNAVAILABLE', 'issuer keys unavailable');
  if (err instanceof errors.JOSENotSupported) return invalid('ZTMESH_AUTHN_ALG_NOT_ALLOWED', 'token algorithm or key type is not supported');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return invalid('ZTMESH_AUTHN_MALFORMED_TOKEN', 'malformed token');
  // The remote key set reports non-200 answers and unparseable bodies as the generic JOSEError.
  if (err instanceof errors.JOSEError && err.constructor === errors.JOSEError) return invalid('ZTMESH_AUTHN_JWKS_UNAVAILABLE', 'issuer keys unavailable');
  if (err instanceof errors.JOSEError) return invalid('ZTMESH_AUTHN_MALFORMED_TOKEN', `token rejected (${err.code})`);
  // fetch failures (connection refused, non-200) surface as plain errors from the remote key set.
  return invalid('ZTMESH_AUTHN_JWKS_UNAVAILABLE', 'issuer keys unavailable');
}
