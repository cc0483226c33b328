import { describe, expect, it } from 'vitest';
import { parseStatCpuTicks, parseStatusPeakRss, sampleProcess } from './proc-stats.ts';

describe('parseStatCpuTicks', () => {
  it('adds utime and stime, counting fields after the last parenthesis', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 150 37 0 0 20 0 11 0 100 0 0';
    expect(parseStatCpuTicks(stat)).toBe(187);
  });
  it('rejects text that is not a stat line', () => {
    expect(() => parseStatCpuTicks('garbage')).toThrow();
  });
});

describe('parseStatusPeakRss', () => {
  it('reads VmHWM in bytes', () => {
    expect(parseStatusPeakRss('Name:\tnginx\nVmHWM:\t   20480 kB\nVmRSS:\t 1 kB\n')).toBe(20480 * 1024);
  });
});

describe('sampleProcess', () => {
  it('samples this very process from /proc', async () => {
    const sample = await sampleProcess(process.pid);
    expect(sample.cpuSeconds).toBeGreaterThan(0);
    expect(sample.peakRssBytes).toBeGreaterThan(1024 * 1024);
  });
});
