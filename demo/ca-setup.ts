import { writeFile } from 'node:fs/promises';
import { MeshError } from '../core/errors/mesh-error.ts';
import { runZtmesh } from './child-process.ts';

/** Runs `ztmesh ca init` into `caDir` (the seal key is in `env`). */
export async function initCa(caDir: string, trustDomain: string, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  await runZtmesh('ztmesh ca init', ['ca', 'init', '--trust-domain', trustDomain, '--dir', caDir], env, cwd);
}

/** Writes the trust bundle `ztmesh ca bundle` prints to `bundleFile`. */
export async function writeBundle(caDir: string, bundleFile: string, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const pem = await runZtmesh('ztmesh ca bundle', ['ca', 'bundle', '--dir', caDir], env, cwd);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new MeshError('ZTMESH_DEMO_STEP_FAILED', 'ztmesh ca bundle printed no certificate');
  }
  await writeFile(bundleFile, pem, { mode: 0o644 });
}

const TOKEN = /\bztjt_[A-Za-z0-9_-]{16,200}\b/;

/**
 * Creates a one-time join token for `spiffeId` with `ztmesh ca token create` and writes it to
 * `tokenFile` (mode 0600). The token itself never reaches a log or an error message.
 */
export async function createJoinToken(caDir: string, spiffeId: string, tokenFile: string, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const out = await runZtmesh('ztmesh ca token create', ['ca', 'token', 'create', '--dir', caDir, '--spiffe-id', spiffeId, '--ttl', '10m'], env, cwd);
  const token = TOKEN.exec(out)?.[0] ?? singleLine(out);
  if (token === undefined) {
    throw new MeshError('ZTMESH_DEMO_STEP_FAILED', `ztmesh ca token create printed no token for ${spiffeId}`, { details: { spiffeId } });
  }
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
}

/** A token printed alone on its one line (a format other than ztjt_...). */
function singleLine(out: string): string | undefined {
  const lines = out.trim().split('\n');
  const only = lines.length === 1 ? lines[0]!.trim() : '';
  return /^[\x21-\x7e]{16,400}$/.test(only) ? only : undefined;
}
