import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './report-markdown.ts';
import { renderSvg } from './report-svg.ts';
import type { BenchResults } from './results.ts';

const results: BenchResults = {
  startedAt: '2026-11-28T13:00:00.000Z',
  finishedAt: '2026-11-28T13:20:00.000Z',
  machine: {
    nproc: 2, cpuModel: 'AMD EPYC', kernel: '6.18', node: 'v24.21.0', nginx: '1.22.1', wrk: '4.1.0', h2load: '1.52.0', openssl: '3.0.22',
    loadAverageAtStart: [0.5, 0.4, 0.3], loadAverageAtEnd: [1.5, 1, 0.5],
  },
  settings: { rounds: 3, seconds: 10, warmupSeconds: 2, wrkThreads: 1, quick: false },
  scenarios: [{
    id: '1-c16', group: 1, title: 'small <bodies>', load: 'wrk -t1 -c16', headline: 'rps',
    contenders: [
      { id: 'direct', label: 'direct', family: 'direct', available: true, runs: [], median: { requestsPerSecond: 30000, megabytesPerSecond: 5, errors: 0, latencyMs: { p50: 0.2, p99: 1, p999: 2 }, cpuPer1k: {} } },
      {
        id: 'nginx', label: 'nginx mTLS pair', family: 'nginx', available: true, runs: [],
        median: { requestsPerSecond: 9000, megabytesPerSecond: 1.5, errors: 0, latencyMs: { p50: 1, p99: 0.5, p999: 4 }, cpuPer1k: { outbound: 0.06, inbound: 0.05 } },
        peakRssMb: { outbound: 17, inbound: 18 }, addedLatencyMs: { p50: 0.8, p99: -0.5 },
        vsNginx: { throughput: 1, p99: 1, cpuPer1kOutbound: 1, cpuPer1kInbound: 1, peakRssInbound: 1 },
      },
      { id: 'ztmesh', label: 'ztmesh sidecar pair', family: 'ztmesh', available: false, reason: 'the sidecar | is not built yet', runs: [] },
    ],
  }],
};

describe('renderMarkdown', () => {
  it('names the machine, keeps signs, and shows a missing contender with its reason, escaped', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('2 CPUs (`nproc`), AMD EPYC');
    expect(md).toContain('| nginx mTLS pair | 9,000 | 1.5 | 1.00 / 0.50 / 4.00 | +0.80 / −0.50 | 0.060 / 0.050 | 17.0 / 18.0 | 1.00× |');
    expect(md).toContain('| ztmesh sidecar pair | not available: the sidecar \\| is not built yet |');
  });
});

describe('renderSvg', () => {
  it('draws one bar per available contender and escapes text', () => {
    const svg = renderSvg(results);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('small &lt;bodies&gt;');
    expect(svg).toContain('not available');
  });
});
