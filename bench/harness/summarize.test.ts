import { describe, expect, it } from 'vitest';
import type { RunSample } from './results.ts';
import { type RawContender, summarize } from './summarize.ts';

function run(rps: number, p50: number, p99: number, cpu?: number): RunSample {
  return {
    round: 1, requests: rps * 10, requestsPerSecond: rps, megabytesPerSecond: rps / 1000, errors: 0,
    latencyMs: { p50, p99, p999: p99 * 2 },
    cpuPer1k: cpu === undefined ? {} : { outbound: cpu, inbound: cpu / 2 },
  };
}

const raw: RawContender[] = [
  { id: 'direct', label: 'd', family: 'direct', available: true, runs: [run(30000, 0.2, 1), run(31000, 0.3, 1.2), run(29000, 0.25, 1.1)] },
  { id: 'nginx', label: 'n', family: 'nginx', available: true, runs: [run(9000, 1, 3, 0.06), run(9200, 1.1, 3.2, 0.07), run(8800, 0.9, 2.8, 0.05)], peakRssMb: { outbound: 10, inbound: 20 } },
  { id: 'ztmesh', label: 'z', family: 'ztmesh', available: true, runs: [run(6300, 1.5, 4.5, 0.09), run(6200, 1.4, 4.2, 0.1), run(6400, 1.6, 4.8, 0.08)], peakRssMb: { outbound: 50, inbound: 60 } },
  { id: 'ztmesh-trace100', label: 't', family: 'ztmesh', available: false, reason: 'not supported yet', runs: [] },
];

describe('summarize', () => {
  const [direct, nginx, ztmesh, traced] = summarize(raw, 'rps');

  it('takes medians over the rounds', () => {
    expect(nginx!.median!.requestsPerSecond).toBe(9000);
    expect(nginx!.median!.latencyMs.p99).toBe(3);
    expect(nginx!.median!.cpuPer1k).toEqual({ outbound: 0.06, inbound: 0.03 });
  });

  it('adds latency over direct and ratios to nginx', () => {
    expect(ztmesh!.addedLatencyMs!.p50).toBeCloseTo(1.25);
    expect(ztmesh!.vsNginx!.throughput).toBeCloseTo(0.7);
    expect(ztmesh!.vsNginx!.p99).toBeCloseTo(1.5);
    expect(ztmesh!.vsNginx!.cpuPer1kOutbound).toBeCloseTo(1.5);
    expect(ztmesh!.vsNginx!.peakRssInbound).toBe(3);
    expect(direct!.vsNginx).toBeUndefined();
  });

  it('keeps an unavailable contender as such, with its reason and no figures', () => {
    expect(traced).toMatchObject({ available: false, reason: 'not supported yet' });
    expect(traced!.median).toBeUndefined();
  });
});
