import { fileURLToPath } from 'node:url';
import { waitForPort } from '../child-processes.ts';
import type { ContenderSpec } from '../contender.ts';
import { freePort } from '../free-port.ts';

const PIPE_SCRIPT = fileURLToPath(new URL('../tls-pipe.ts', import.meta.url));
let instance = 0;

/**
 * A reference floor, not a product: two Node processes piping bytes through mTLS 1.3 (one TLS
 * connection per client connection, no HTTP parsing, no pooling). Issue 8 quotes it at ~0.7x nginx.
 */
export const nodeTlsPipe: ContenderSpec = {
  id: 'node-tls-pipe',
  label: 'Node TLS byte pipe (reference)',
  family: 'node-tls-pipe',
  async start(env, kind) {
    const outboundPort = await freePort();
    const inboundPort = await freePort();
    instance += 1;
    const { pki } = env;
    const inbound = env.group.start({
      name: `tls-pipe-inbound-${instance}`, command: env.nodeBin,
      args: [PIPE_SCRIPT, 'inbound', String(inboundPort), String(env.appPorts[kind]), pki.server.certFile, pki.server.keyFile, pki.bundleFile, pki.client.spiffeId],
    });
    const outbound = env.group.start({
      name: `tls-pipe-outbound-${instance}`, command: env.nodeBin,
      args: [PIPE_SCRIPT, 'outbound', String(outboundPort), String(inboundPort), pki.client.certFile, pki.client.keyFile, pki.bundleFile, pki.server.spiffeId],
    });
    const stop = async (): Promise<void> => {
      await Promise.all([inbound.stop(3000), outbound.stop(3000)]);
    };
    try {
      await waitForPort(inboundPort, inbound);
      await waitForPort(outboundPort, outbound);
    } catch (err) {
      await stop();
      throw err;
    }
    return { port: outboundPort, mtlsPort: inboundPort, proxies: [{ role: 'outbound', child: outbound }, { role: 'inbound', child: inbound }], stop };
  },
};
