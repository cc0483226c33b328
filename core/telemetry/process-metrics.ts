import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from './metrics.ts';

/** VmRSS and VmHWM (bytes) from the text of /proc/<pid>/status; undefined where absent. */
export function parseProcStatusMemory(status: string): { rss?: number; peak?: number } {
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  const peak = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return { ...(rss === null ? {} : { rss: Number(rss[1]) * 1024 }), ...(peak === null ? {} : { peak: Number(peak[1]) * 1024 }) };
}

/**
 * The standard Prometheus process metrics plus Node's heap and event-loop delay, refreshed at each
 * scrape: what a sidecar costs, where operators look first (Linkerd and Envoy expose the same).
 * Off Linux (no /proc) the resident figures come from process.memoryUsage() and fds are left out.
 */
export function registerProcessMetrics(registry: Registry): void {
  const cpu = registry.counter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds.' });
  const rss = registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.' });
  const peak = registry.gauge({ name: 'process_resident_memory_peak_bytes', help: 'Peak resident memory size (VmHWM) in bytes.' });
  const start = registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.' });
  const fds = registry.gauge({ name: 'process_open_fds', help: 'Number of open file descriptors.' });
  const heap = registry.gauge({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes.' });
  const external = registry.gauge({ name: 'nodejs_external_memory_bytes', help: 'Memory outside the V8 heap held by JavaScript objects (buffers), in bytes.' });
  const lag = registry.gauge({ name: 'nodejs_eventloop_delay_p99_seconds', help: 'p99 event-loop delay since the previous scrape, in seconds.' });
  start.set(Math.floor((Date.now() - process.uptime() * 1000) / 1000));
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let cpuSeen = 0;
  registry.collect(() => {
    const usage = process.cpuUsage();
    const seconds = (usage.user + usage.system) / 1e6;
    cpu.inc(Math.max(0, seconds - cpuSeen));
    cpuSeen = Math.max(cpuSeen, seconds);
    const memory = process.memoryUsage();
    heap.set(memory.heapUsed);
    external.set(memory.external);
    let figures: { rss?: number; peak?: number } = {};
    try {
      figures = parseProcStatusMemory(readFileSync('/proc/self/status', 'latin1'));
      fds.set(readdirSync('/proc/self/fd').length);
    } catch {
      // No /proc: resident size from Node, no peak or fd count.
    }
    rss.set(figures.rss ?? memory.rss);
    if (figures.peak !== undefined) peak.set(figures.peak);
    lag.set(delay.count > 0 ? delay.percentile(99) / 1e9 : 0);
    delay.reset();
  });
}
