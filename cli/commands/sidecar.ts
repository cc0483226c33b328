import { resolve } from 'node:path';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage:
  ztmesh sidecar --config FILE

Runs the sidecar: mTLS inbound and outbound listeners, identity from files or the mesh CA,
authorization policies (hot reloaded), and the admin port (/healthz /ready /metrics
/app-health/<name> /debug/identity). SIGTERM or SIGINT drains, then exits 0.
The config keys are documented in sidecar/README.md; tracing is configured by the OTEL_* variables.
The process re-executes itself once with its own V8 flags (ZTMESH_SIDECAR_V8_FLAGS, default
--max-semi-space-size=2; empty for V8's defaults).
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  // Validate first, so a bad config is reported without loading the whole data plane.
  const { loadSidecarConfig } = await import('../../sidecar/config/load-sidecar-config.ts');
  const config = loadSidecarConfig(resolve(io.cwd, requireFlag(values.config, 'config')));
  const { runSidecar } = await import('../../sidecar/main.ts');
  return runSidecar(config, io.env);
}
