import type { Logger } from '../../core/telemetry/logger.ts';
import type { CoarseTimers } from '../pool/coarse-timers.ts';
import type { DataPlaneMetrics } from '../errors/dataplane-metrics.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { Http1Limits } from './limits.ts';
import type { Http1Router } from './http1-router.ts';

/** What every HTTP/1.1 connection of one server shares: built once per server. */
export class Http1Context {
  readonly router: Http1Router;
  readonly limits: Http1Limits;
  readonly timers: CoarseTimers;
  readonly metrics: DataPlaneMetrics;
  readonly refusals: RefusalLog;
  readonly logger: Logger;
  /** Set by `drain()`: each connection closes after its current response. */
  draining = false;

  constructor(router: Http1Router, limits: Http1Limits, timers: CoarseTimers, metrics: DataPlaneMetrics, refusals: RefusalLog, logger: Logger) {
    this.router = router;
    this.limits = limits;
    this.timers = timers;
    this.metrics = metrics;
    this.refusals = refusals;
    this.logger = logger;
  }
}
