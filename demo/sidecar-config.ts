import { stringify } from 'yaml';
import { DEMO_CA_IDENTITY, DEMO_NAMESPACE, DEMO_TRUST_DOMAIN, type DemoService, type DemoTopology } from './topology.ts';

/** Where a sidecar's files live (absolute paths; the demo writes them before starting it). */
export interface SidecarFiles {
  readonly bundleFile: string;
  readonly tokenFile: string;
  readonly policyFile: string;
}

/**
 * The `ztmesh sidecar --config` document for one demo service: identity from the mesh CA with a
 * join token, inbound in front of the app, outbound routes to the services it may call.
 */
export function demoSidecarConfig(topology: DemoTopology, service: DemoService, files: SidecarFiles): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const route of service.routes) {
    const target = topology.services[route];
    services[route] = { address: `127.0.0.1:${target.ports.inbound}`, identity: target.identity };
  }
  return {
    trustDomain: DEMO_TRUST_DOMAIN,
    workload: { namespace: DEMO_NAMESPACE, name: service.name, labels: { app: service.name } },
    identity: {
      ca: {
        address: `127.0.0.1:${topology.caPort}`,
        bundleFile: files.bundleFile,
        tokenFile: files.tokenFile,
        identity: DEMO_CA_IDENTITY,
        ttl: '1h',
      },
    },
    inbound: { listen: `127.0.0.1:${service.ports.inbound}`, app: `127.0.0.1:${service.ports.app}` },
    outbound: { listen: `127.0.0.1:${service.ports.outbound}`, services },
    policyFile: files.policyFile,
    admin: `127.0.0.1:${service.ports.admin}`,
    // Every decision, ALLOWs included, reaches the audit log: the demo prints one line per decision.
    audit: { sampleAllowed: 1 },
    drainGracePeriod: '2s',
    logLevel: 'info',
  };
}

export function demoSidecarYaml(topology: DemoTopology, service: DemoService, files: SidecarFiles): string {
  return stringify(demoSidecarConfig(topology, service, files));
}
