import { describe, expect, it } from 'vitest';
import { Registry } from './metrics.ts';
import { parseProcStatusMemory, registerProcessMetrics } from './process-metrics.ts';

describe('process metrics', () => {
  it('reads VmRSS and VmHWM from /proc/<pid>/status text', () => {
    expect(parseProcStatusMemory('Name:\tnode\nVmHWM:\t   88136 kB\nVmRSS:\t   88024 kB\n')).toEqual({ rss: 88024 * 1024, peak: 88136 * 1024 });
    expect(parseProcStatusMemory('Name:\tnode\n')).toEqual({});
  });

  it('renders the standard process series with live values, CPU never going backwards', () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const first = registry.render();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_used_bytes', 'nodejs_eventloop_delay_p99_seconds']) {
      expect(first).toMatch(new RegExp(`^${name} \\d`, 'm'));
    }
    const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
    expect(value(first, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(Math.abs(value(first, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    for (let i = 0; i < 2e6; i++) Math.sqrt(i); // burn a little CPU
    const second = registry.render();
    expect(value(second, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(value(first, 'process_cpu_seconds_total'));
    if (process.platform === 'linux') expect(value(second, 'process_open_fds')).toBeGreaterThan(2);
  });
});
