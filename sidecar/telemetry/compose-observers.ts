import type { RequestInfo, RequestObserver, RequestOutcome, RequestScope } from './request-observer.ts';

class PairScope implements RequestScope {
  readonly forwardHeaders: string;
  readonly traceId: string | undefined;
  readonly #a: RequestScope;
  readonly #b: RequestScope;

  constructor(a: RequestScope, b: RequestScope) {
    this.#a = a;
    this.#b = b;
    // The first observer that propagates trace context owns the forwarded headers.
    this.forwardHeaders = a.forwardHeaders !== '' ? a.forwardHeaders : b.forwardHeaders;
    this.traceId = a.traceId ?? b.traceId;
  }

  end(outcome: RequestOutcome): void {
    this.#a.end(outcome);
    this.#b.end(outcome);
  }
}

function pair(a: RequestObserver, b: RequestObserver): RequestObserver {
  return {
    start(info: RequestInfo): RequestScope {
      return new PairScope(a.start(info), b.start(info));
    },
  };
}

/**
 * One observer calling several in order (telemetry first, then inventory, anomaly...). Built as a
 * fixed chain of pairs: per request one scope object per extra observer, no array allocation.
 * The forwarded trace headers and trace id are the first observer's that sets them.
 */
export function composeObservers(first: RequestObserver, ...rest: RequestObserver[]): RequestObserver {
  let out = first;
  for (const next of rest) out = pair(out, next);
  return out;
}
