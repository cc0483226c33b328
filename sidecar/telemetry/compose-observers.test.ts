import { describe, expect, it } from 'vitest';
import { composeObservers } from './compose-observers.ts';
import { fakeRequestInfo } from './fake-request-info.ts';
import type { RequestObserver, RequestOutcome } from './request-observer.ts';

function recorder(name: string, log: string[], forwardHeaders = '', traceId?: string): RequestObserver {
  return {
    start(info) {
      log.push(`${name} start ${info.path}`);
      return { forwardHeaders, traceId, end: (o: RequestOutcome) => log.push(`${name} end ${o.status}`) };
    },
  };
}

describe('composeObservers', () => {
  it('calls every observer in order, and ends every scope', () => {
    const log: string[] = [];
    const o = composeObservers(recorder('a', log), recorder('b', log), recorder('c', log));
    o.start(fakeRequestInfo({ path: '/x' })).end({ status: 204, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(log).toEqual(['a start /x', 'b start /x', 'c start /x', 'a end 204', 'b end 204', 'c end 204']);
  });

  it('forwards the trace headers and id of the first observer that has them', () => {
    const log: string[] = [];
    const o = composeObservers(recorder('a', log), recorder('t', log, 'traceparent: 00-x\r\n', 'abc'));
    const scope = o.start(fakeRequestInfo());
    expect(scope.forwardHeaders).toBe('traceparent: 00-x\r\n');
    expect(scope.traceId).toBe('abc');
  });

  it('returns a single observer unchanged', () => {
    const a = recorder('a', []);
    expect(composeObservers(a)).toBe(a);
  });
});
