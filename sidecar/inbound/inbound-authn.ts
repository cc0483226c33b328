import { createJwtAuthenticator, type JwtAuthenticator } from '../authn/jwt-authenticator.ts';
import type { z } from 'zod';
import { validateConfig } from '../../core/config/load.ts';
import { requestAuthenticationSchema } from '../authn/jwt-config.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';

/** What the authn layer reads and writes of one inbound request. */
export interface AuthnTarget {
  header(name: string): string | undefined;
  requestPrincipal: string | undefined;
  claims: Readonly<Record<string, unknown>> | undefined;
}

/** RFC 6750 3.1: the challenge for a token that was presented and refused (no detail: the code says why). */
const CHALLENGE = Object.freeze({ 'www-authenticate': 'Bearer error="invalid_token"' });

/**
 * The inbound end-user authentication layer, built once from the workload's RequestAuthentication
 * config. `tokenPresent` is a cheap synchronous test (a few header lookups) so that requests
 * without a token never pay for a promise; `authenticate` verifies the token (async: signature,
 * maybe a JWKS fetch) and, when valid, records `ISS/SUB` and the claims on the request for
 * authorization and telemetry. An invalid token is a 401 refusal; it is never forwarded.
 */
export class InboundAuthn {
  readonly #authenticator: JwtAuthenticator;
  /** Lowercase header names any rule reads a token from. */
  readonly #tokenHeaders: readonly string[];
  /** Issuer -> the header names to remove before forwarding (rules with forwardOriginalToken: false). */
  readonly #strip: ReadonlyMap<string, readonly string[]>;

  /** Validates `input` (ZTMESH_CONFIG_INVALID / ZTMESH_AUTHN_BAD_CONFIG: key files are read here, once). */
  constructor(input: z.input<typeof requestAuthenticationSchema>, options: { readonly now?: () => number } = {}) {
    const config = validateConfig(requestAuthenticationSchema, input, 'requestAuthentication');
    this.#authenticator = createJwtAuthenticator(config, options);
    this.#tokenHeaders = [...new Set(config.jwtRules.flatMap((r) => r.fromHeaders.map((h) => h.name.toLowerCase())))];
    const strip = new Map<string, readonly string[]>();
    for (const rule of config.jwtRules) {
      if (!rule.forwardOriginalToken) strip.set(rule.issuer, rule.fromHeaders.map((h) => h.name.toLowerCase()));
    }
    this.#strip = strip;
  }

  /** True when a header a rule reads tokens from is present: only then is `authenticate` worth a promise. */
  tokenPresent(req: AuthnTarget): boolean {
    const names = this.#tokenHeaders;
    for (let i = 0; i < names.length; i++) if (req.header(names[i]!) !== undefined) return true;
    return false;
  }

  /** Verifies the request's token: undefined when accepted (or none), else the 401 refusal. Never rejects. */
  async authenticate(req: AuthnTarget): Promise<Refusal | undefined> {
    const result = await this.#authenticator.authenticate((name) => req.header(name));
    if (result.kind === 'none') return undefined;
    if (result.kind === 'invalid') return refusal(401, result.code, `invalid end-user token: ${result.reason}`, CHALLENGE);
    req.requestPrincipal = result.requestPrincipal;
    req.claims = result.claims;
    return undefined;
  }

  /** Header names to drop from the forwarded request for an authenticated one (empty: forward the token, as Istio by default). */
  headersToStrip(req: AuthnTarget): readonly string[] {
    if (this.#strip.size === 0 || req.claims === undefined) return NONE;
    const iss = req.claims['iss'];
    return (typeof iss === 'string' ? this.#strip.get(iss) : undefined) ?? NONE;
  }
}

const NONE: readonly string[] = Object.freeze([]);
