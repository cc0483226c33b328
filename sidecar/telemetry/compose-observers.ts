import type { BodyFraming, EventAttributes, RequestInfo, RequestObserver, RequestOutcome, RequestScope, ResponseBodyTap } from './request-observer.ts';

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

  /** Later observers end first: the first one's span is still open for their events. */
  end(outcome: RequestOutcome): void {
    this.#b.end(outcome);
    this.#a.end(outcome);
  }

  /** The first observer that taps the response body gets it. */
  response(status: number, contentType: string | undefined, contentEncoded: boolean, framing: BodyFraming): ResponseBodyTap | undefined {
    return this.#a.response?.(status, contentType, contentEncoded, framing) ?? this.#b.response?.(status, contentType, contentEncoded, framing);
  }

  addEvent(name: string, attributes: EventAttributes): void {
    this.#a.addEvent?.(name, attributes);
    this.#b.addEvent?.(name, attributes);
  }
}

function pair(a: RequestObserver, b: RequestObserver): RequestObserver {
  return {
    start(info: RequestInfo, parent?: RequestScope): RequestScope {
      const first = a.start(info, parent);
      return new PairScope(first, b.start(info, first));
    },
  };
}

/**
 * One observer calling several in order (telemetry first, then inventory, anomaly...). Built as a
 * fixed chain of pairs: per request one scope object per extra observer, no array allocation.
 * The forwarded trace headers and trace id are the first observer's that sets them. Each observer
 * gets the scope of those before it as `parent`; scopes end last-started first.
 */
export function composeObservers(first: RequestObserver, ...rest: RequestObserver[]): RequestObserver {
  let out = first;
  for (const next of rest) out = pair(out, next);
  return out;
}
