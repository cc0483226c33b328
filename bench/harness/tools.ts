import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The programs the benchmark drives, and the Debian package that brings each. */
export const REQUIRED_TOOLS: readonly { readonly program: string; readonly pkg: string }[] = [
  { program: 'nginx', pkg: 'nginx-light' },
  { program: 'wrk', pkg: 'wrk' },
  { program: 'h2load', pkg: 'nghttp2-client' },
  { program: 'openssl', pkg: 'openssl' },
];

async function onPath(program: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${program}`]);
    return true;
  } catch {
    return false;
  }
}

export async function missingTools(): Promise<{ program: string; pkg: string }[]> {
  const present = await Promise.all(REQUIRED_TOOLS.map((tool) => onPath(tool.program)));
  return REQUIRED_TOOLS.filter((_, i) => !present[i]);
}

/**
 * Makes sure nginx, wrk, h2load and openssl are installed: as root, installs the missing Debian
 * packages with apt-get (telling `say` first); otherwise throws an error explaining what to install.
 */
export async function ensureTools(say: (line: string) => void): Promise<void> {
  const missing = await missingTools();
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  const names = missing.map((m) => m.program).join(', ');
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${names}; install them with: sudo apt-get install -y ${pkgs.join(' ')} (then run npm run bench again)`);
  }
  say(`bench: ${names} not found; installing Debian packages ${pkgs.join(' ')} with apt-get...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', ...pkgs], { env, timeout: 600_000 });
  const still = await missingTools();
  if (still.length > 0) throw new Error(`apt-get finished but ${still.map((m) => m.program).join(', ')} still missing`);
}
