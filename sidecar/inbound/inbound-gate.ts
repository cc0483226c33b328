import type { Authorizer } from '../../core/policy/decision.ts';
import { refusal, type Refusal } from '../errors/refusal.ts';
import { CallerThrottle, type CallerMeasures } from './caller-guard.ts';
import type { InboundAuthn } from './inbound-authn.ts';
import type { InboundRateLimit } from './inbound-rate-limit.ts';
import type { InboundRequest } from './inbound-request.ts';

const QUARANTINED = refusal(403, 'ZTMESH_ANOMALY_QUARANTINED', 'the caller is quarantined after anomalous behaviour; the measure expires on its own');
const THROTTLED = refusal(429, 'ZTMESH_ANOMALY_THROTTLED', 'the caller is throttled after anomalous behaviour', { 'retry-after': '1' });
const NO_POLICY = refusal(403, 'ZTMESH_SIDECAR_NO_POLICY', 'no valid authorization policy is loaded: denied');

/**
 * The checks every inbound request passes, in order, shared by HTTP/1.1 and HTTP/2:
 * 1. end-user JWT (only when a rule is configured and the request carries a token; async),
 * 2. authorization against the current policy snapshot (none loaded: deny, fail closed),
 * 3. temporary measures against the caller (anomaly response: quarantine → 403, throttle → 429),
 * 4. the local rate limit. It runs after authorization, unlike Envoy's local rate limit (before
 *    RBAC): a request the policy denies never takes a token from the caller's budget, and a denial
 *    costs less than a bucket update. Every inbound peer holds a verified mesh identity, so
 *    buckets are per (principal, route); per source IP only for sources without one.
 */
export class InboundGate {
  readonly #authorizer: () => Authorizer | undefined;
  readonly authn: InboundAuthn | undefined;
  readonly #rateLimit: InboundRateLimit | undefined;
  readonly #measures: CallerMeasures | undefined;
  readonly #throttle: CallerThrottle;

  constructor(authorizer: () => Authorizer | undefined, authn: InboundAuthn | undefined, rateLimit: InboundRateLimit | undefined, measures?: CallerMeasures) {
    this.#authorizer = authorizer;
    this.authn = authn;
    this.#rateLimit = rateLimit;
    this.#measures = measures;
    this.#throttle = new CallerThrottle();
  }

  /** True when step 1 must run (a JWT rule is configured and a token header is present). */
  needsAuthn(req: InboundRequest): boolean {
    return this.authn !== undefined && this.authn.tokenPresent(req);
  }

  /** Steps 2 and 3, synchronous: sets `req.decision`; undefined when the request may go on. */
  admit(req: InboundRequest): Refusal | undefined {
    const authorizer = this.#authorizer();
    if (authorizer === undefined) return NO_POLICY;
    const decision = authorizer.evaluate(req);
    req.decision = decision;
    if (decision.decision !== 'ALLOW') return refusal(403, 'ZTMESH_SIDECAR_DENIED', `denied: ${decision.reason}`);
    const measures = this.#measures;
    if (measures !== undefined) {
      const principal = req.principal;
      if (measures.isQuarantined(principal)) return QUARANTINED;
      const rps = measures.throttleFor(principal);
      if (rps !== undefined && principal !== undefined && !this.#throttle.take(principal, rps)) return THROTTLED;
    }
    return this.#rateLimit?.check(req);
  }

  /** All three steps for a request that carries a token. Never rejects. */
  async authenticateAndAdmit(req: InboundRequest): Promise<Refusal | undefined> {
    const failed = await this.authn!.authenticate(req);
    return failed ?? this.admit(req);
  }
}
