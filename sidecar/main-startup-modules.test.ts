import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// Every sidecar pays in resident memory for each module it loads (issue 8: RSS per sidecar).
// These packages are only for features a sidecar may not use: OpenTelemetry with tracing on,
// JOSE with requestAuthentication, gRPC with the CA or the operator's control plane, the X.509
// library and the Kubernetes client never (the SVID checks read their three extensions directly).
const HEAVY = ['@opentelemetry/', 'jose', '@peculiar/', 'reflect-metadata', 'tsyringe', '@grpc/', '@kubernetes/', 'protobufjs'];

/** The node_modules packages loaded by importing the sidecar command, its config loader and the program. */
async function packagesLoadedBySidecar(): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const urls = new Set();
    registerHooks({ load(url, context, next) { urls.add(url); return next(url, context); } });
    await import('./cli/commands/sidecar.ts');
    await import('./sidecar/config/load-sidecar-config.ts');
    await import('./sidecar/main.ts');
    const packages = new Set();
    for (const url of urls) {
      const m = /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(url);
      if (m !== null) packages.add(m[1]);
    }
    process.stdout.write(JSON.stringify([...packages]));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot });
  return JSON.parse(stdout) as string[];
}

describe('sidecar startup', () => {
  it('loads no package of an optional feature when importing the sidecar program', async () => {
    const packages = await packagesLoadedBySidecar();
    expect(packages).toContain('zod'); // the import really ran
    expect(packages.filter((p) => HEAVY.some((h) => (h.endsWith('/') ? p.startsWith(h) : p === h)))).toEqual([]);
  });
});
