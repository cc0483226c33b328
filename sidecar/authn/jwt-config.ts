import { z } from 'zod';

/**
 * A `RequestAuthentication`-like config for one workload, as Istio's jwtRules: which issuers'
 * tokens are accepted, for which audiences, with which keys and algorithms. Validated once at the
 * edge; a token that fails these rules gets 401, a request without a token goes on to
 * authorization, where `requestPrincipals` / `request.auth.claims[...]` can require one.
 */

/** Asymmetric JWS algorithms only: JWKS keys are public keys, and HMAC with a public key is the
 *  classic key-confusion attack; `none` is never accepted. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const duration = z.string().regex(/^\d+(?:\.\d+)?(ms|s|m|h)$/, 'must be a duration like 30s, 5m');

export const jwtRuleSchema = z
  .strictObject({
    issuer: z.string().min(1).max(2048),
    /** The token's aud must contain one of these. Required: a token minted for another service must not be accepted here. */
    audiences: z.array(z.string().min(1)).min(1, 'list at least one audience'),
    /** Inline JWKS JSON, as Istio's `jwks`. */
    jwks: z.string().optional(),
    jwksFile: z.string().min(1).optional(),
    /** https, or http on loopback (tests, local IdPs). */
    jwksUri: z.url().optional(),
    algorithms: z
      .array(
        z.string().superRefine((alg, ctx) => {
          if ((ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) return;
          const why = alg.toLowerCase() === 'none' ? '"none" (unsigned tokens) is never accepted'
            : /^HS/i.test(alg) ? 'HMAC algorithms are refused: JWKS keys are public, and HS* with a public key is a key-confusion attack'
            : `supported: ${ASYMMETRIC_ALGORITHMS.join(', ')}`;
          ctx.addIssue({ code: 'custom', message: `algorithm ${JSON.stringify(alg)}: ${why}` });
        }),
      )
      .min(1)
      .default(['RS256', 'ES256']),
    clockSkew: duration.default('60s'),
    /** Where the token is read; default `Authorization: Bearer <token>`. */
    fromHeaders: z
      .array(z.strictObject({ name: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'is not a header name'), prefix: z.string().default('') }))
      .min(1)
      .default([{ name: 'authorization', prefix: 'Bearer ' }]),
    /** As Istio: the app still receives the token header (it may need it); false removes it once verified. */
    forwardOriginalToken: z.boolean().default(true),
  })
  .superRefine((rule, ctx) => {
    const sources = [rule.jwks, rule.jwksFile, rule.jwksUri].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of jwks, jwksFile, jwksUri' });
    if (rule.jwksUri !== undefined) {
      const url = new URL(rule.jwksUri);
      const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
        ctx.addIssue({ code: 'custom', message: 'jwksUri must be https (http only on loopback)', path: ['jwksUri'] });
      }
    }
  });

export const requestAuthenticationSchema = z.strictObject({
  jwtRules: z.array(jwtRuleSchema).default([]),
  /** Remote JWKS: how long fetched keys are trusted before a refetch. */
  jwksCacheDuration: duration.default('10m'),
  /** Remote JWKS: after a fetch, an unknown kid triggers another fetch only after this long. */
  jwksRefreshCooldown: duration.default('30s'),
  jwksFetchTimeout: duration.default('5s'),
  /** Tokens longer than this are refused without parsing. */
  maxTokenBytes: z.int().min(256).max(65536).default(8192),
});

export type JwtRule = z.output<typeof jwtRuleSchema>;
export type RequestAuthenticationConfig = z.output<typeof requestAuthenticationSchema>;
