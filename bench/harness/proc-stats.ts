import { readFile } from 'node:fs/promises';

/** What the harness samples of one proxy process, from /proc. */
export interface ProcSample {
  /** utime + stime, in seconds. */
  readonly cpuSeconds: number;
  /** VmHWM: the peak resident set size so far, in bytes. */
  readonly peakRssBytes: number;
}

/**
 * utime + stime (clock ticks) from the text of /proc/<pid>/stat. The command name (field 2) may
 * contain spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseStatCpuTicks(stat: string): number {
  const end = stat.lastIndexOf(')');
  if (end < 0) throw new Error('not a /proc/<pid>/stat line: no ")"');
  // After ") ": state(3) ppid(4) ... utime(14) stime(15), i.e. indexes 11 and 12 of the rest.
  const fields = stat.slice(end + 2).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('not a /proc/<pid>/stat line: no utime/stime');
  return utime + stime;
}

/** VmHWM in bytes from the text of /proc/<pid>/status. */
export function parseStatusPeakRss(status: string): number {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error('no VmHWM line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

/** Samples a live process. `ticksPerSecond` is the kernel's USER_HZ (`getconf CLK_TCK`, 100 on Linux). */
export async function sampleProcess(pid: number, ticksPerSecond = 100): Promise<ProcSample> {
  const [stat, status] = await Promise.all([
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/status`, 'utf8'),
  ]);
  return { cpuSeconds: parseStatCpuTicks(stat) / ticksPerSecond, peakRssBytes: parseStatusPeakRss(status) };
}
