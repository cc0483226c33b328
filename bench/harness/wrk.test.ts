import { describe, expect, it } from 'vitest';
import { parseWrkOutput, wrkArgs, WRK_REPORT_SCRIPT } from './wrk.ts';

const SAMPLE = `Running 2s test @ http://127.0.0.1:18081/
  1 threads and 4 connections
Requests/sec:  60492.39
WRK_JSON {"requests":120000,"durationUs":2000000,"bytes":24000000,"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":3},"latencyUs":{"p50":46,"p90":82,"p99":187,"p999":1622,"max":2960,"mean":56.58}}
`;

describe('parseWrkOutput', () => {
  it('reads totals and percentiles from the Lua report line', () => {
    const r = parseWrkOutput(SAMPLE);
    expect(r.requestsPerSecond).toBe(60000);
    expect(r.megabytesPerSecond).toBe(12);
    expect(r.errors).toBe(6);
    expect(r.errorDetail).toBe("wrk: read 1, status 2, timeout 3");
    expect(r.latencyMs).toEqual({ p50: 0.046, p99: 0.187, p999: 1.622 });
  });
  it('fails loudly when the report line is missing', () => {
    expect(() => parseWrkOutput('Requests/sec: 1\n')).toThrow(/WRK_JSON/);
  });
});

describe('wrkArgs', () => {
  it('always loads the report script and passes headers before the URL', () => {
    const args = wrkArgs({ url: 'http://x/', connections: 16, threads: 1, durationSeconds: 3, headers: ['Host: app'] });
    expect(args).toContain(WRK_REPORT_SCRIPT);
    expect(args.slice(-3)).toEqual(['-H', 'Host: app', 'http://x/']);
  });
});
