import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FileWatchOptions {
  /** Wait this long after the last event before re-reading (writers touch files several times). */
  readonly debounceMs?: number;
  /** Re-read this often even without events (fs.watch misses changes on some filesystems and mounts). */
  readonly pollMs?: number;
  /** Reports a watcher failure (the poll keeps working). */
  readonly onWatchError?: (err: unknown) => void;
}

export interface FileWatch {
  /** Re-read now; resolves once any resulting change has been reported. */
  check(): Promise<void>;
  close(): void;
}

function fingerprintSync(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    try {
      hash.update(readFileSync(file));
    } catch (err) {
      hash.update(`missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function fingerprint(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    try {
      hash.update(await readFile(file));
    } catch (err) {
      hash.update(`missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * Calls `onChange` when the content of any of `files` changes. It watches the parent directories,
 * not the files, so atomic replacement (write a temp file, rename over) and Kubernetes' `..data`
 * symlink swap are seen; events are debounced, and a slow poll catches what fs.watch misses.
 * Changes are detected by content, so a touch without a change is ignored. `onChange` calls are
 * serialized: the next check waits for the previous handler to settle. The baseline is read
 * synchronously here, so a caller that starts the watch before its own first load misses nothing.
 */
export function watchFiles(files: readonly string[], onChange: () => Promise<void> | void, options: FileWatchOptions = {}): FileWatch {
  const debounceMs = options.debounceMs ?? 200;
  const pollMs = options.pollMs ?? 10_000;
  const names = new Set(files.map((f) => basename(f)));
  const watchers: FSWatcher[] = [];
  let closed = false;
  let last = fingerprintSync(files);
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const check = (): Promise<void> => {
    chain = chain.then(async () => {
      if (closed) return;
      const previous = last;
      const now = await fingerprint(files);
      last = now;
      if (now !== previous && !closed) await onChange();
    }).catch((err: unknown) => options.onWatchError?.(err));
    return chain;
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, debounceMs);
    timer.unref();
  };

  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Kubernetes swaps a `..data` symlink; editors write temp files then rename: any of these may be ours.
        if (name === null || names.has(String(name)) || String(name).startsWith('..')) schedule();
      });
      w.on('error', (err) => options.onWatchError?.(err));
      watchers.push(w);
    } catch (err) {
      options.onWatchError?.(err);
    }
  }
  const poll = setInterval(() => void check(), pollMs);
  poll.unref();

  return {
    check,
    close() {
      closed = true;
      clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/**
 * Watches `files` and runs `load` once now and again on every change. Loads never overlap: a change
 * seen during one waits for it, so the newest content wins. The watch starts before the first load,
 * so a change made while loading is seen. Resolves once the first load settled.
 */
export async function watchAndReload(
  files: readonly string[],
  load: () => Promise<boolean>,
  onWatchError: (err: unknown) => void,
  options: { debounceMs?: number | undefined; pollMs?: number | undefined } = {},
): Promise<{ reload: () => Promise<boolean>; close: () => void }> {
  let running: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<boolean> => {
    const next = running.then(load);
    running = next.catch(() => undefined);
    return next;
  };
  const watch = watchFiles(files, async () => void (await reload()), { debounceMs: options.debounceMs ?? 200, pollMs: options.pollMs ?? 10_000, onWatchError });
  await reload();
  return { reload, close: () => watch.close() };
}
