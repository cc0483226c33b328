import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release } from 'node:os';
import { promisify } from 'node:util';
import type { MachineInfo } from './results.ts';

const run = promisify(execFile);

async function versionOf(command: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 10_000 }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
    return pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The machine the figures come from, for the results' header. */
export async function machineInfo(nodeBin: string): Promise<Omit<MachineInfo, 'loadAverageAtEnd'>> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const nproc = Number((await run('nproc').catch(() => ({ stdout: '' }))).stdout.trim()) || availableParallelism();
  return {
    nproc,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    kernel: release(),
    node: await versionOf(nodeBin, ['--version'], /(v\d+\.\d+\.\d+)/),
    nginx: await versionOf('nginx', ['-v'], /nginx\/(\S+)/),
    wrk: await versionOf('wrk', ['--version'], /wrk (\S+)/),
    h2load: await versionOf('h2load', ['--version'], /nghttp2\/(\S+)/),
    openssl: await versionOf('openssl', ['version'], /OpenSSL (\S+)/),
    loadAverageAtStart: loadavg(),
  };
}
