import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForPort } from '../child-processes.ts';
import type { ContenderSpec } from '../contender.ts';
import { freePort } from '../free-port.ts';
import { inboundConfig, type NginxPairPorts, outboundConfig } from '../nginx-config.ts';

let instance = 0;

/**
 * (b) Two nginx processes (one worker each, master_process off so the measured pid is the worker):
 * an outbound proxy taking plaintext and an inbound proxy terminating mTLS 1.3, as a user would
 * hand-roll an mTLS sidecar pair.
 */
export const nginxPair: ContenderSpec = {
  id: 'nginx',
  label: 'nginx mTLS pair',
  family: 'nginx',
  async start(env, kind) {
    const ports: NginxPairPorts = {
      outboundPort: await freePort(), inboundPort: await freePort(), appPort: env.appPorts[kind], http2: kind !== 'http1',
    };
    instance += 1;
    const dirs = { outbound: join(env.tmpDir, `nginx-out-${instance}`), inbound: join(env.tmpDir, `nginx-in-${instance}`) };
    await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
    await writeFile(join(dirs.inbound, 'nginx.conf'), inboundConfig(dirs.inbound, ports, env.pki.client, env.pki.server, env.pki.bundleFile));
    await writeFile(join(dirs.outbound, 'nginx.conf'), outboundConfig(dirs.outbound, ports, env.pki.client, env.pki.server, env.pki.bundleFile));
    const nginx = (role: 'outbound' | 'inbound') =>
      env.group.start({ name: `nginx-${role}-${instance}`, command: 'nginx', args: ['-p', dirs[role], '-c', join(dirs[role], 'nginx.conf'), '-e', 'stderr'] });
    const inbound = nginx('inbound');
    const outbound = nginx('outbound');
    const stop = async (): Promise<void> => {
      await Promise.all([inbound.stop(3000), outbound.stop(3000)]);
    };
    try {
      await waitForPort(ports.inboundPort, inbound);
      await waitForPort(ports.outboundPort, outbound);
    } catch (err) {
      await stop();
      throw err;
    }
    return { port: ports.outboundPort, mtlsPort: ports.inboundPort, proxies: [{ role: 'outbound', child: outbound }, { role: 'inbound', child: inbound }], stop };
  },
};
