import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFiles, type FileWatch } from './file-watch.ts';

const open: FileWatch[] = [];
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

function changes(files: string[], pollMs = 60_000): { count: () => number; next: () => Promise<void>; watch: FileWatch } {
  let count = 0;
  let wake: (() => void) | undefined;
  const watch = watchFiles(files, () => {
    count++;
    wake?.();
  }, { debounceMs: 10, pollMs });
  open.push(watch);
  return { count: () => count, next: () => new Promise((r) => (wake = r)), watch };
}

describe('watchFiles', () => {
  it('reports an atomic replacement (write temp, rename over)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-watch-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'a');
    const w = changes([file]);
    const next = w.next();
    writeFileSync(`${file}.tmp`, 'b');
    renameSync(`${file}.tmp`, file);
    await next;
    expect(w.count()).toBe(1);
  });

  it("reports Kubernetes' ..data symlink swap", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-watch-'));
    mkdirSync(join(dir, 'v1'));
    mkdirSync(join(dir, 'v2'));
    writeFileSync(join(dir, 'v1', 'token'), 'one');
    writeFileSync(join(dir, 'v2', 'token'), 'two');
    symlinkSync('v1', join(dir, '..data'));
    symlinkSync('..data/token', join(dir, 'token'));
    const w = changes([join(dir, 'token')]);
    const next = w.next();
    symlinkSync('v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await next;
    expect(w.count()).toBe(1);
  });

  it('ignores a rewrite with the same content, and polls when no event comes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-watch-'));
    const file = join(dir, 'a');
    writeFileSync(file, 'same');
    const w = changes([file]);
    writeFileSync(file, 'same');
    await w.watch.check();
    expect(w.count()).toBe(0);
    writeFileSync(file, 'different');
    await w.watch.check();
    expect(w.count()).toBe(1);
  });
});
