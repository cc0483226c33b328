import { describe, expect, it } from 'vitest';
import { composeObservers } from './compose-observers.ts';
import { fakeRequestInfo } from './fake-request-info.ts';
import type { RequestObserver, RequestOutcome, RequestScope } from './request-observer.ts';

function recorder(name: string, log: string[], forwardHeaders = '', traceId?: string): RequestObserver {
  return {
    start(info) {
      log.push(`${name} start ${info.path}`);
      return { forwardHeaders, traceId, end: (o: RequestOutcome) => log.push(`${name} end ${o.status}`) };
    },
  };
}

describe('composeObservers', () => {
  it('starts every observer in order, and ends every scope in reverse order', () => {
    const log: string[] = [];
    const o = composeObservers(recorder('a', log), recorder('b', log), recorder('c', log));
    o.start(fakeRequestInfo({ path: '/x' })).end({ status: 204, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(log).toEqual(['a start /x', 'b start /x', 'c start /x', 'c end 204', 'b end 204', 'a end 204']);
  });

  it('forwards the trace headers and id of the first observer that has them', () => {
    const log: string[] = [];
    const o = composeObservers(recorder('a', log), recorder('t', log, 'traceparent: 00-x\r\n', 'abc'));
    const scope = o.start(fakeRequestInfo());
    expect(scope.forwardHeaders).toBe('traceparent: 00-x\r\n');
    expect(scope.traceId).toBe('abc');
  });

  it('hands each observer the scope of those before it, forwards span events, and gives the response body to the first that taps it', () => {
    const events: string[] = [];
    const parents: (RequestScope | undefined)[] = [];
    const tap = { data: () => false, end: () => undefined };
    const first: RequestObserver = { start: () => ({ forwardHeaders: '', traceId: undefined, end: () => undefined, addEvent: (name: string) => void events.push(name) }) };
    const tapping = (wants: boolean): RequestObserver => ({
      start(_info, parent) {
        parents.push(parent);
        return { forwardHeaders: '', traceId: undefined, end: () => parent?.addEvent?.('seen at end', {}), response: () => (wants ? tap : undefined) };
      },
    });
    const scope = composeObservers(first, tapping(false), tapping(true)).start(fakeRequestInfo());
    expect(parents[0]).toBeDefined();
    expect(parents[1]).toBeDefined();
    expect(parents[1]).not.toBe(parents[0]);
    expect(scope.response?.(200, 'application/json', false, 'length')).toBe(tap);
    scope.end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(events).toEqual(['seen at end', 'seen at end']);
  });

  it('returns a single observer unchanged', () => {
    const a = recorder('a', []);
    expect(composeObservers(a)).toBe(a);
  });
});
