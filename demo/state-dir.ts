import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MeshError } from '../core/errors/mesh-error.ts';

/** Where one demo run keeps its CA, tokens, configs and policies. */
export interface StateDir {
  readonly path: string;
  /** Removes the directory if the demo created it as a temporary one; a chosen one is kept. */
  cleanUp(): Promise<void>;
}

/**
 * A chosen directory must be new or empty (a CA is never initialised over another one); without
 * one, a fresh temporary directory is used and removed at shutdown.
 */
export async function prepareStateDir(chosen: string | undefined, cwd: string): Promise<StateDir> {
  if (chosen === undefined) {
    const path = await mkdtemp(join(tmpdir(), 'ztmesh-demo-'));
    return { path, cleanUp: () => rm(path, { recursive: true, force: true }) };
  }
  const path = resolve(cwd, chosen);
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    const entries = await readdir(path);
    if (entries.length > 0) {
      throw new MeshError('ZTMESH_DEMO_BAD_STATE_DIR', `state directory ${path} is not empty; choose a new or empty one`, { details: { path } });
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError('ZTMESH_DEMO_BAD_STATE_DIR', `cannot use state directory ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
      details: { path },
    });
  }
  return { path, cleanUp: async () => {} };
}
