import type { Decision } from '../../core/policy/decision.ts';
import type { RequestInfo, RequestObserver, RequestOutcome, RequestScope } from './request-observer.ts';

/**
 * What happened to one request: `deny` when authorization or another check of the sidecar refused
 * it (a policy, no policy loaded, authentication, rate limit: 401/403/429 with a code), `error`
 * when the sidecar answered itself for another reason (no route, upstream unreachable, bad
 * request), `allow` when it was authorized and forwarded.
 */
export type Verdict = 'allow' | 'deny' | 'error';

/** One recorded request, as served at the admin port's `/debug/decisions`. */
export interface RecentDecision {
  /** When the response ended (ISO 8601). */
  readonly time: string;
  readonly direction: 'inbound' | 'outbound';
  readonly verdict: Verdict;
  /** The verified SPIFFE ID of the caller, or null when there was none. */
  readonly caller: string | null;
  /** The SPIFFE ID of the called workload (inbound: this one), or null. */
  readonly destination: string | null;
  readonly method: string;
  /** The normalized path (no query), cut to MAX_PATH_CHARS. Attacker-controlled: render as text. */
  readonly path: string;
  readonly status: number;
  /** The sidecar's stable error code when it answered itself (ZTMESH_SIDECAR_DENIED...), else null. */
  readonly code: string | null;
  /** The deciding policy (NS/NAME) and its rule index, when a policy decided. */
  readonly policy: string | null;
  readonly rule: number | null;
  /** Why: the evaluator's explanation, or which check refused the request. */
  readonly reason: string;
}

export interface RecentDecisionsSnapshot {
  /** Newest first. Denials are kept apart so a flood of allowed traffic never evicts them. */
  readonly denials: readonly RecentDecision[];
  /** Allowed requests and the sidecar's own errors, newest first. */
  readonly recent: readonly RecentDecision[];
  /** Totals since start (including those evicted from the rings). */
  readonly totals: { readonly deny: number; readonly allow: number; readonly error: number };
  readonly capacity: { readonly denials: number; readonly recent: number };
}

export interface RecentDecisionsOptions {
  /** How many denials are kept (default 200). */
  readonly denials?: number;
  /** How many allowed requests and errors are kept (default 50; 0 keeps none). */
  readonly recent?: number;
  readonly now?: () => number;
}

/** Longer paths are cut (with a trailing '…'): entries stay small whatever the caller sends. */
export const MAX_PATH_CHARS = 512;
const MAX_FIELD_CHARS = 256;

/** Checks that refuse a request rather than fail it. */
const REFUSED_STATUSES = new Set([401, 403, 429]);

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An entry as kept: the time as a number, formatted only when a snapshot is taken. */
type Entry = Omit<RecentDecision, 'time'> & { readonly at: number };

/** A fixed-size ring, oldest overwritten first. */
class Ring {
  readonly #items: (Entry | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#items = new Array<Entry | undefined>(capacity).fill(undefined);
  }

  get capacity(): number {
    return this.#items.length;
  }

  push(item: Entry): void {
    if (this.#items.length === 0) return;
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.#items.length;
  }

  newestFirst(): RecentDecision[] {
    const out: RecentDecision[] = [];
    const n = this.#items.length;
    for (let i = 1; i <= n; i++) {
      const item = this.#items[(this.#next - i + n) % n];
      if (item === undefined) continue;
      const { at, ...rest } = item;
      out.push({ time: new Date(at).toISOString(), ...rest });
    }
    return out;
  }
}

class DecisionScope implements RequestScope {
  readonly forwardHeaders = '';
  readonly traceId = undefined;
  readonly #owner: RecentDecisions;
  readonly #info: RequestInfo;
  #ended = false;

  constructor(owner: RecentDecisions, info: RequestInfo) {
    this.#owner = owner;
    this.#info = info;
  }

  end(outcome: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#owner.record(this.#info, outcome);
  }
}

function verdictOf(decision: Decision | undefined, outcome: RequestOutcome): Verdict {
  if (decision?.decision === 'DENY') return 'deny';
  if (outcome.errorCode === undefined) return 'allow';
  return REFUSED_STATUSES.has(outcome.status) ? 'deny' : 'error';
}

function reasonOf(verdict: Verdict, decision: Decision | undefined, outcome: RequestOutcome): string {
  if (decision?.decision === 'DENY') return decision.reason;
  if (verdict === 'allow') return decision?.reason ?? 'forwarded';
  return `refused by the sidecar (${outcome.errorCode ?? 'no code'})`;
}

/**
 * A request observer keeping the sidecar's recent authorization decisions in two bounded rings:
 * every denial with its explanation (deciding policy and rule, or the check that refused it, and
 * the error code), plus the caller, method, normalized path and time; and a smaller ring of allowed
 * requests and sidecar errors. Inbound requests are recorded (that is where decisions are made);
 * outbound ones only when the sidecar answered them itself. The admin port serves `snapshot()` at
 * `/debug/decisions`. Costs one scope object per inbound request and one entry when it ends.
 */
export class RecentDecisions implements RequestObserver {
  readonly #denials: Ring;
  readonly #recent: Ring;
  readonly #now: () => number;
  readonly #totals = { deny: 0, allow: 0, error: 0 };

  constructor(options: RecentDecisionsOptions = {}) {
    const denials = options.denials ?? 200;
    const recent = options.recent ?? 50;
    for (const [name, n] of [['denials', denials], ['recent', recent]] as const) {
      if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new RangeError(`recent decisions: ${name} must be an integer from 0 to 100000, got ${String(n)}`);
    }
    this.#denials = new Ring(denials);
    this.#recent = new Ring(recent);
    this.#now = options.now ?? Date.now;
  }

  start(info: RequestInfo): RequestScope {
    return new DecisionScope(this, info);
  }

  /** Called by the scope when its request ends. */
  record(info: RequestInfo, outcome: RequestOutcome): void {
    // An outbound request the sidecar forwarded was decided (and is recorded) by the destination.
    if (info.direction === 'outbound' && outcome.errorCode === undefined) return;
    const decision = info.decision;
    const verdict = verdictOf(decision, outcome);
    this.#totals[verdict]++;
    const ring = verdict === 'deny' ? this.#denials : this.#recent;
    if (ring.capacity === 0) return;
    const fromPolicy = decision !== undefined && (verdict === 'allow' || decision.decision === 'DENY');
    ring.push({
      at: this.#now(),
      direction: info.direction,
      verdict,
      caller: info.sourcePrincipal === undefined ? null : cut(info.sourcePrincipal, MAX_FIELD_CHARS * 8),
      destination: info.destinationPrincipal === undefined ? null : cut(info.destinationPrincipal, MAX_FIELD_CHARS * 8),
      method: cut(info.method, MAX_FIELD_CHARS),
      path: cut(info.path, MAX_PATH_CHARS),
      status: outcome.status,
      code: outcome.errorCode ?? (decision?.decision === 'DENY' ? (decision.code ?? null) : null),
      policy: fromPolicy ? decision.policy : null,
      rule: fromPolicy ? decision.rule : null,
      reason: reasonOf(verdict, decision, outcome),
    });
  }

  snapshot(): RecentDecisionsSnapshot {
    return {
      denials: this.#denials.newestFirst(),
      recent: this.#recent.newestFirst(),
      totals: { ...this.#totals },
      capacity: { denials: this.#denials.capacity, recent: this.#recent.capacity },
    };
  }
}
