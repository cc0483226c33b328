import { describe, expect, it } from 'vitest';
import { parseH2loadLog, parseH2loadSummary } from './h2load.ts';

const SAMPLE = `finished in 2.00s, 56596.50 req/s, 4.32MB/s
requests: 113193 total, 113201 started, 113193 done, 113190 succeeded, 3 failed, 2 errored, 1 timeout
status codes: 113180 2xx, 0 3xx, 10 4xx, 0 5xx
traffic: 8.63MB (9052640) total, 4.65MB (4880000) headers (space savings 50.51%), 1.40MB (1471000) data
`;

describe('parseH2loadSummary', () => {
  it('reads totals, failures and non-2xx statuses', () => {
    expect(parseH2loadSummary(SAMPLE)).toEqual({ finishedSeconds: 2, succeeded: 113190, failed: 6, bytes: 9052640, non2xx: 10 });
  });
  it('rejects output without a summary', () => {
    expect(() => parseH2loadSummary('connect error')).toThrow(/h2load/);
  });
});

describe('parseH2loadLog', () => {
  it('returns sorted durations in milliseconds and skips blank lines', () => {
    expect(parseH2loadLog('1\t200\t803\n1\t200\t697\n\n')).toEqual([0.697, 0.803]);
  });
});
