import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Decision } from '../../core/policy/decision.ts';
import type { Registry } from '../../core/telemetry/metrics.ts';
import type { TracingSetup } from '../../core/telemetry/tracing-setup.ts';
import type { rateLimitCodes } from '../ratelimit/error-codes.ts';
import { AuditLog, type AuditOptions } from './audit-log.ts';
import { auditRecordFor, type AuditWorkload } from './audit-record.ts';
import { type PeerSeries, RequestMetrics } from './request-metrics.ts';
import type { EventAttributes, RequestInfo, RequestObserver, RequestOutcome, RequestScope } from './request-observer.ts';
import { endSpan, startTrace, type TraceTarget } from './request-tracing.ts';

export interface RequestObserverOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly audit: AuditOptions;
  /** undefined: no spans; valid incoming trace contexts are still passed through. */
  readonly tracing: TracingSetup | undefined;
  readonly workload: {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    /** This workload's current SPIFFE ID (it changes only with the trust domain, read per request). */
    readonly identity: () => string | undefined;
  };
}

/** The sidecar's observer, plus the one gauge its owner sets on policy reload. */
export interface SidecarRequestObserver extends RequestObserver {
  /** Marks the policy snapshot in force (`ztmesh_policy_version{version}` 1). */
  setPolicyVersion(version: string): void;
}

const UNKNOWN = 'unknown';
const RATE_LIMITED: keyof typeof rateLimitCodes = 'ZTMESH_RATELIMIT_EXCEEDED';

class ObservedRequest implements RequestScope, TraceTarget {
  forwardHeaders = '';
  traceId: string | undefined = undefined;
  span: Span | undefined = undefined;
  readonly #metrics: RequestMetrics;
  readonly #series: PeerSeries;
  readonly #direction: 'inbound' | 'outbound';
  readonly #method: string;
  readonly #decision: 'ALLOW' | 'DENY' | undefined;
  readonly #started: number;
  #ended = false;

  constructor(metrics: RequestMetrics, series: PeerSeries, info: RequestInfo) {
    this.#metrics = metrics;
    this.#series = series;
    this.#direction = info.direction;
    this.#method = info.method;
    this.#decision = info.decision?.decision;
    this.#started = performance.now();
  }

  end(outcome: RequestOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    const seconds = (performance.now() - this.#started) / 1000;
    this.#metrics.record(this.#series, this.#method, outcome.status, this.#decision, seconds);
    if (outcome.errorCode === RATE_LIMITED) this.#metrics.rateLimited(this.#series);
    if (this.span !== undefined) endSpan(this.span, this.#direction, outcome);
  }

  addEvent(name: string, attributes: EventAttributes): void {
    if (this.span !== undefined && !this.#ended) this.span.addEvent(name, attributes);
  }
}

/** Dry-run policies are evaluated, never enforced: what they would have decided is logged and counted. */
function logDryRun(logger: Logger, metrics: RequestMetrics, info: RequestInfo, decision: Decision, traceId: string | undefined): void {
  for (const d of decision.dryRun) metrics.dryRun(d.policy, d.decision);
  logger.info(
    {
      dryRun: decision.dryRun,
      enforced: { decision: decision.decision, policy: decision.policy },
      source: info.sourcePrincipal ?? null,
      method: info.method,
      path: info.path,
      traceId: traceId ?? null,
    },
    'dry-run policy decision',
  );
}

/**
 * The sidecar's RequestObserver: request metrics on `registry`, the audit log through `logger`
 * (or its own destination), and spans through `tracing`. Per request: one scope object, cached
 * metric children, and — only when the request is sampled — one span.
 */
export function createRequestObserver(options: RequestObserverOptions): SidecarRequestObserver {
  const metrics = new RequestMetrics(options.registry);
  const audit = new AuditLog(options.logger, options.audit);
  const tracing = options.tracing;
  const workload: AuditWorkload = { namespace: options.workload.namespace, labels: { ...options.workload.labels } };
  const identity = options.workload.identity;
  const logger = options.logger;

  return {
    start(info: RequestInfo): RequestScope {
      const selfId = identity();
      const self = selfId ?? UNKNOWN;
      const source = info.direction === 'inbound' ? (info.sourcePrincipal ?? UNKNOWN) : (info.sourcePrincipal ?? self);
      const destination = info.direction === 'inbound' ? (info.destinationPrincipal ?? self) : (info.destinationPrincipal ?? UNKNOWN);
      const scope = new ObservedRequest(metrics, metrics.peer(info.direction, source, destination), info);
      startTrace(tracing, info, scope);
      const decision = info.decision;
      if (decision !== undefined) {
        if (decision.decision === 'DENY') metrics.denied(decision.policy);
        if (audit.shouldRecord(decision)) audit.write(auditRecordFor(info, decision, workload, selfId, audit.headers(), scope.traceId));
        if (decision.dryRun.length > 0) logDryRun(logger, metrics, info, decision, scope.traceId);
      }
      return scope;
    },
    setPolicyVersion(version: string): void {
      metrics.setPolicyVersion(version);
    },
  };
}
