import type { Logger } from '../../core/telemetry/logger.ts';
import type { RequestHead } from '../http1/request-head.ts';
import type { RetryDecider, RetryReason } from '../http1/http1-router.ts';
import type { Upstream } from '../pool/upstream-pool.ts';
import type { RetrySettings, ServiceRoute, ServiceTarget } from '../outbound/service-table.ts';
import type { BalancedPool } from './balanced-pool.ts';
import type { EndpointMetrics } from './endpoint-metrics.ts';
import type { CounterChild } from '../../core/telemetry/metrics.ts';
import { RetryBudget } from './retry-budget.ts';

/** Linkerd's defaults: retries add at most 20% of the requests, plus 10 per second. */
export const DEFAULT_RETRY: RetrySettings = { attempts: 2, budgetRatio: 0.2, minRetriesPerSecond: 10 };

/** Methods that RFC 9110 9.2.2 makes idempotent: safe to send twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * One service's timeout and retry policy (shared by HTTP/1.1 and HTTP/2): the service timeout with
 * per-route overrides (longest path prefix wins), which requests may be retried after a gateway
 * error (502/503/504) or a reset before the response head (idempotent methods, or routes marked
 * retryable; at most `attempts` further tries), and the retry budget that caps them. Connect
 * failures and refused streams never reached an app: they move to another endpoint without
 * this policy. Updated in place when the service's config changes.
 */
export class ServicePolicy implements RetryDecider {
  readonly service: string;
  readonly #pool: BalancedPool | null;
  readonly #exhausted: CounterChild;
  readonly #logger: Logger;
  #timeoutMs = 0;
  #routes: readonly ServiceRoute[] = [];
  #settings: RetrySettings = DEFAULT_RETRY;
  #budget = new RetryBudget(DEFAULT_RETRY.budgetRatio, DEFAULT_RETRY.minRetriesPerSecond);

  constructor(target: ServiceTarget, pool: BalancedPool | null, metrics: EndpointMetrics, logger: Logger) {
    this.service = target.name;
    this.#pool = pool;
    this.#exhausted = metrics.budgetExhausted.labels(target.name);
    this.#logger = logger;
    this.update(target);
  }

  update(target: ServiceTarget): void {
    this.#timeoutMs = target.timeoutMs ?? 0;
    this.#routes = [...(target.routes ?? [])].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    const s = target.retry ?? DEFAULT_RETRY;
    if (s.budgetRatio !== this.#settings.budgetRatio || s.minRetriesPerSecond !== this.#settings.minRetriesPerSecond) {
      this.#budget = new RetryBudget(s.budgetRatio, s.minRetriesPerSecond);
    }
    this.#settings = s;
  }

  /** A request started (counts towards the budget). */
  deposit(now: number): void {
    this.#budget.deposit(now);
  }

  /** The timeout for a request to `target` (origin-form), 0 for none. */
  timeoutFor(target: string): number {
    if (this.#routes.length === 0) return this.#timeoutMs;
    const route = this.#route(target);
    return route?.timeoutMs ?? this.#timeoutMs;
  }

  /** May a request (method, origin-form target) be retried after a gateway error or reset, as attempt `attempt`? */
  mayRetry(method: string, target: string, attempt: number, now: number): boolean {
    if (attempt > this.#settings.attempts) return false;
    if (!isIdempotent(method) && this.#route(target)?.retryable !== true) return false;
    if (this.#budget.withdraw(now)) return true;
    this.#exhausted.inc();
    this.#logger.debug({ service: this.service }, 'retry budget exhausted');
    return false;
  }

  retry(head: RequestHead, target: string, failed: Upstream | null, attempt: number, reason: RetryReason): boolean {
    const pool = this.#pool;
    if (pool === null || !this.mayRetry(head.method, target, attempt, Date.now())) return false;
    return pool.reserveRetry(failed, reason);
  }

  timedOut(up: Upstream | null): void {
    this.#pool?.timedOut(up);
  }

  #route(target: string): ServiceRoute | undefined {
    for (const r of this.#routes) if (target.startsWith(r.pathPrefix)) return r;
    return undefined;
  }
}
