import { describe, expect, it } from 'vitest';
import { DemoChild } from './child-process.ts';

// Real child processes (plain Node scripts standing in for the CA and a sidecar).
function child(script: string): { c: DemoChild; lines: string[]; linesAtLeast: (n: number) => Promise<void> } {
  const lines: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const c = new DemoChild({ name: 'test-child', args: ['-e', script], env: process.env, cwd: process.cwd() }, (_name, line) => {
    lines.push(line);
    for (const w of waiters) if (lines.length >= w.n) w.resolve();
  });
  const linesAtLeast = (n: number): Promise<void> =>
    lines.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
  return { c, lines, linesAtLeast };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('demo child processes', () => {
  it('delivers output line by line and stops a well-behaved child with SIGTERM', async () => {
    const { c, lines, linesAtLeast } = child("process.on('SIGTERM', () => { console.log('draining'); process.exit(0); }); console.log('one'); console.log('two'); setInterval(() => {}, 1000);");
    await linesAtLeast(2);
    expect(lines).toEqual(['one', 'two']);
    const exit = await c.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lines).toContain('draining');
    expect(c.running).toBe(false);
  });

  it('kills a child (and its own children) that ignores SIGTERM once the grace period is over', async () => {
    const grandchild = "require('child_process').spawn(process.execPath, ['-e', 'process.on(\"SIGTERM\", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' })";
    const { c, lines, linesAtLeast } = child(`const g = ${grandchild}; process.on('SIGTERM', () => {}); console.log(String(g.pid)); setInterval(() => {}, 1000);`);
    await linesAtLeast(1);
    const grandchildPid = Number(lines[0]);
    const exit = await c.stop(300);
    expect(exit.signal).toBe('SIGKILL');
    // The whole process group got SIGKILL: nothing is left behind. (The grandchild is not ours to
    // wait for, so poll briefly for the kernel to finish it.)
    for (let i = 0; i < 100 && alive(grandchildPid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alive(grandchildPid)).toBe(false);
  });

  it('reports a child that exits by itself', async () => {
    const { c } = child('process.exit(3)');
    expect(await c.exited).toEqual({ code: 3, signal: null });
    expect(await c.stop(100)).toEqual({ code: 3, signal: null });
  });
});
