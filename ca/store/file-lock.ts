import { open, stat, unlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { MeshError } from '../../core/errors/mesh-error.ts';

const STALE_MS = 30_000;

/**
 * Runs `fn` holding an exclusive lock file (`O_CREAT|O_EXCL`), so the CA process and a
 * `ztmesh ca token create` never interleave read-modify-write of the same sealed file. A lock left
 * by a crashed process is taken over after 30 s.
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(lockFile).catch(() => undefined);
      if (info !== undefined && Date.now() - info.mtimeMs > STALE_MS) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new MeshError('ZTMESH_CA_LOCK_TIMEOUT', `could not lock ${lockFile} within ${timeoutMs} ms`, { details: { lockFile } });
      await delay(10 + Math.floor(Math.random() * 20));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}
