/** Time constant of the latency estimate's decay (Linkerd's peak-EWMA default is 10 s). */
const DECAY_MS = 10_000;
/** Latency assumed for an endpoint never measured: high enough that a measured fast one wins. */
const DEFAULT_RTT_MS = 30;
/** Consecutive connect failures (or one wrong identity) after which an endpoint is ejected. */
export const EJECT_AFTER_FAILURES = 3;
/** Consecutive gateway errors (502/503/504 from the endpoint) after which it is ejected (Envoy's default). */
export const EJECT_AFTER_GATEWAY_ERRORS = 5;
const BASE_EJECTION_MS = 1_000;
const MAX_EJECTION_MS = 30_000;

/**
 * What the balancer knows about one endpoint: a peak-EWMA latency estimate (a slower sample is
 * taken at once, a faster one decays in over `DECAY_MS`), the requests now outstanding on it, its
 * consecutive connect failures and gateway errors and, once ejected, until when. After an ejection expires the
 * endpoint is half-open: exactly one probe request may go there; success closes the circuit,
 * failure ejects it again for twice as long (capped).
 */
export class EndpointState {
  /** `host:port`, the metric label. */
  readonly key: string;
  ewmaMs = DEFAULT_RTT_MS;
  lastSampleAt = 0;
  outstanding = 0;
  consecutiveFailures = 0;
  /** Responses in a row that were 502, 503 or 504. */
  consecutiveGatewayErrors = 0;
  /** 0 when in rotation; else the time (ms since epoch) the ejection ends. */
  ejectedUntil = 0;
  /** How many times in a row it was ejected (drives the exponential backoff). */
  ejections = 0;
  /** A probe request is in flight after an ejection expired. */
  probing = false;
  /** Removed from the service (rollout): never picked again. */
  retired = false;

  constructor(key: string) {
    this.key = key;
  }

  /** Can a new request go here at `now`? */
  available(now: number): boolean {
    if (this.retired) return false;
    if (this.ejectedUntil === 0) return true;
    return now >= this.ejectedUntil && !this.probing;
  }

  /** Peak-EWMA cost: the latency estimate times the load it would join. */
  cost(): number {
    return this.ewmaMs * (this.outstanding + 1);
  }

  /** A request starts here (a probe when the endpoint is half-open). */
  begin(now: number): void {
    this.outstanding++;
    if (this.ejectedUntil !== 0 && now >= this.ejectedUntil) this.probing = true;
  }

  /** The first response byte arrived `rttMs` after the request began. */
  sample(rttMs: number, now: number): void {
    if (rttMs > this.ewmaMs || this.lastSampleAt === 0) {
      this.ewmaMs = rttMs;
    } else {
      const w = Math.exp(-(now - this.lastSampleAt) / DECAY_MS);
      this.ewmaMs = this.ewmaMs * w + rttMs * (1 - w);
    }
    this.lastSampleAt = now;
  }

  /** The request ended; `connected` says whether a connection to the endpoint was established. */
  end(connected: boolean, now: number): boolean {
    if (this.outstanding > 0) this.outstanding--;
    return connected ? this.succeeded() : this.failed(now, false);
  }

  succeeded(): boolean {
    this.consecutiveFailures = 0;
    if (this.ejectedUntil !== 0 && this.probing) {
      this.ejectedUntil = 0;
      this.ejections = 0;
      this.probing = false;
    }
    return false;
  }

  /** Records a connect failure (`hard`: a wrong identity, ejected at once); returns true when this ejects it. */
  failed(now: number, hard: boolean): boolean {
    this.consecutiveFailures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (!hard && !wasProbe && this.consecutiveFailures < EJECT_AFTER_FAILURES) return false;
    return this.#eject(now);
  }

  /**
   * The response status (first byte of the head) arrived: a gateway error (502/503/504) counts
   * towards ejection, and a probe that gets one is ejected again for twice as long; any other
   * status resets the count. Returns true when this ejects the endpoint.
   */
  responded(gatewayError: boolean, now: number): boolean {
    if (!gatewayError) {
      this.consecutiveGatewayErrors = 0;
      return false;
    }
    this.consecutiveGatewayErrors++;
    const wasProbe = this.probing;
    this.probing = false;
    if (!wasProbe && this.consecutiveGatewayErrors < EJECT_AFTER_GATEWAY_ERRORS) return false;
    this.consecutiveGatewayErrors = 0;
    return this.#eject(now);
  }

  #eject(now: number): boolean {
    if (this.ejectedUntil !== 0 && now < this.ejectedUntil) return false; // already out
    const backoff = Math.min(MAX_EJECTION_MS, BASE_EJECTION_MS * 2 ** Math.min(this.ejections, 16));
    this.ejections++;
    this.ejectedUntil = now + backoff;
    return true;
  }
}
