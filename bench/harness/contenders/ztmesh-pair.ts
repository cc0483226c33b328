import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForHttpOk, waitForPort } from '../child-processes.ts';
import type { ContenderSpec, ZtmeshVariant } from '../contender.ts';
import { freePort } from '../free-port.ts';
import { allowClientPolicy, benchMeshConfig, sidecarConfig, type ZtmeshPairPorts } from '../ztmesh-config.ts';

/** What must exist before a ztmesh pair can start: the sidecar and its CLI subcommand. */
const SIDECAR_FILES = ['sidecar/main.ts', 'cli/commands/sidecar.ts'] as const;

let instance = 0;

/** Why the ztmesh sidecar cannot run from this checkout, or undefined when its files are there. */
export function ztmeshUnavailableReason(repoRoot: string): string | undefined {
  const missing = SIDECAR_FILES.filter((f) => !existsSync(join(repoRoot, f)));
  return missing.length === 0 ? undefined : `the sidecar is not built yet (${missing.join(', ')} missing)`;
}

/** The environment of a sidecar: the harness's, minus any OTEL_* setting, plus the variant's own. */
function sidecarEnv(variant: ZtmeshVariant, sinkPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_')) env[key] = value;
  const tracing = Object.keys(variant.env ?? {}).some((key) => key.startsWith('OTEL_'));
  // Tracing variants export to the harness's local sink, which discards the spans.
  return { ...env, ...variant.env, ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}` } : {}) };
}

/**
 * (c) Two `ztmesh sidecar --config FILE` processes: the client side takes plaintext and routes
 * authority `app` over mTLS to the server side, which authorizes the client principal and forwards
 * to the app. Ready when both answer /ready on their admin ports.
 */
export function ztmeshPair(id: string, label: string, variant: ZtmeshVariant = {}): ContenderSpec {
  return {
    id,
    label,
    family: 'ztmesh',
    async start(env, kind) {
      const unavailable = ztmeshUnavailableReason(env.repoRoot);
      if (unavailable !== undefined) throw new Error(unavailable);
      const ports: ZtmeshPairPorts = {
        outboundPort: await freePort(), inboundPort: await freePort(), appPort: env.appPorts[kind],
        clientAdminPort: await freePort(), serverAdminPort: await freePort(),
        clientUnusedInboundPort: await freePort(), serverUnusedOutboundPort: await freePort(),
      };
      instance += 1;
      const dir = join(env.tmpDir, `ztmesh-${instance}`);
      await mkdir(dir, { recursive: true });
      const policyFile = join(dir, 'policy.yaml');
      await writeFile(policyFile, allowClientPolicy(env.pki, variant.policyRules ?? 1));
      const meshConfigFile = join(dir, 'mesh.yaml');
      await writeFile(meshConfigFile, benchMeshConfig());
      const start = (side: 'client' | 'server') => {
        const configFile = join(dir, `${side}-sidecar.yaml`);
        return writeFile(configFile, sidecarConfig(side, ports, env.pki, policyFile, meshConfigFile)).then(() =>
          env.group.start({
            name: `ztmesh-${side}-${instance}`, command: env.nodeBin, cwd: env.repoRoot, env: sidecarEnv(variant, env.sinkPort),
            args: [join(env.repoRoot, 'bin/ztmesh.js'), 'sidecar', '--config', configFile],
          }));
      };
      const inbound = await start('server');
      const outbound = await start('client');
      const stop = async (): Promise<void> => {
        await Promise.all([inbound.stop(5000), outbound.stop(5000)]);
      };
      try {
        await waitForHttpOk(`http://127.0.0.1:${ports.serverAdminPort}/ready`, inbound, 30_000);
        await waitForHttpOk(`http://127.0.0.1:${ports.clientAdminPort}/ready`, outbound, 30_000);
        await waitForPort(ports.inboundPort, inbound);
        await waitForPort(ports.outboundPort, outbound);
      } catch (err) {
        await stop();
        throw err;
      }
      return { port: ports.outboundPort, mtlsPort: ports.inboundPort, proxies: [{ role: 'outbound', child: outbound }, { role: 'inbound', child: inbound }], stop };
    },
  };
}
