import type { EndpointState } from './endpoint-state.ts';

export type BalancerKind = 'p2c-ewma' | 'round-robin';

/**
 * Chooses an endpoint per request in O(1) without allocating. `p2c-ewma`: two distinct random
 * endpoints, the one with the lower peak-EWMA cost wins (Linkerd's balancer); `round-robin`: the
 * next available one. Unavailable endpoints (ejected, retired, the excluded one) are skipped; when
 * the two random draws are both unavailable a bounded scan from a random start finds any available
 * one. Returns -1 when none is.
 *
 * An endpoint never measured (new, e.g. just added by a rollout) wins its draw while it has no request
 * outstanding: one request at a time explores it until its first sample gives it a real estimate. Without
 * this, its default estimate would lose every draw against a measured fast endpoint whenever traffic is
 * sequential, and it would never be used.
 */
export class EndpointPicker {
  readonly kind: BalancerKind;
  #next = 0;

  constructor(kind: BalancerKind) {
    this.kind = kind;
  }

  pick(states: readonly EndpointState[], now: number, exclude: EndpointState | null): number {
    const n = states.length;
    if (n === 0) return -1;
    if (n === 1) return states[0] !== exclude && states[0]!.available(now) ? 0 : -1;
    if (this.kind === 'round-robin') return this.#scan(states, now, exclude, (this.#next = (this.#next + 1) % n));
    const a = (Math.random() * n) | 0;
    let b = (Math.random() * (n - 1)) | 0;
    if (b >= a) b++;
    const sa = states[a]!;
    const sb = states[b]!;
    const okA = sa !== exclude && sa.available(now);
    const okB = sb !== exclude && sb.available(now);
    if (okA && okB) return prefersSecond(sa, sb) ? b : a;
    if (okA) return a;
    if (okB) return b;
    return this.#scan(states, now, exclude, a);
  }

  #scan(states: readonly EndpointState[], now: number, exclude: EndpointState | null, start: number): number {
    const n = states.length;
    for (let i = 0; i < n; i++) {
      const j = (start + i) % n;
      const s = states[j]!;
      if (s !== exclude && s.available(now)) return j;
    }
    return -1;
  }
}

/** Does `b` win the draw against `a`? An unmeasured idle endpoint first, then the lower cost. */
function prefersSecond(a: EndpointState, b: EndpointState): boolean {
  const exploreA = a.lastSampleAt === 0 && a.outstanding === 0;
  const exploreB = b.lastSampleAt === 0 && b.outstanding === 0;
  if (exploreA !== exploreB) return exploreB;
  return b.cost() < a.cost();
}
