import { stringify } from 'yaml';
import type { InjectOptions } from './inject-options.ts';
import type { AppProbe } from './probe-rewrite.ts';

/** Where the injected volumes put things inside the sidecar container. */
export const PATHS = {
  configDir: '/etc/ztmesh',
  configFile: '/etc/ztmesh/sidecar.yaml',
  policyFile: '/etc/ztmesh/policies.yaml',
  identityDir: '/var/run/secrets/ztmesh',
  tokenFile: '/var/run/secrets/ztmesh/token',
  bundleFile: '/var/run/secrets/ztmesh/bundle.pem',
  dataDir: '/var/lib/ztmesh',
  // Not under configDir: a mount inside a read-only volume's mount point cannot be created.
  apiSpecDir: '/etc/ztmesh-api',
  apiSpecFile: '/etc/ztmesh-api/openapi.yaml',
} as const;

/** `requestValidation` of the injected config: the declared API is the mounted OpenAPI document. */
export interface InjectedValidation {
  readonly refuseUndeclared: boolean;
  readonly maxBodyBytes: number | undefined;
}

export interface SidecarConfigInput {
  readonly namespace: string;
  readonly name: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly appPort: number;
  readonly tcpPorts: readonly number[];
  readonly appProbes: Readonly<Record<string, AppProbe>>;
  /** undefined: no request validation (the pod has no `ztmesh.io/api-spec`). */
  readonly validation?: InjectedValidation | undefined;
}

/**
 * The per-pod sidecar config (the `ztmesh sidecar --config` contract), as the YAML text the
 * injector stores in the `ztmesh.io/sidecar-config` annotation. Deterministic: same input, same text.
 */
export function renderSidecarConfig(input: SidecarConfigInput, options: InjectOptions): string {
  const { ports } = options.proxy;
  const workload: Record<string, unknown> = { namespace: input.namespace };
  if (input.name !== undefined) workload['name'] = input.name;
  workload['labels'] = sortKeys(input.labels);
  const config: Record<string, unknown> = {
    trustDomain: options.trustDomain,
    workload,
    identity: {
      ca: {
        address: options.ca.address,
        bundleFile: PATHS.bundleFile,
        tokenFile: PATHS.tokenFile,
        identity: options.ca.identity,
        ttl: options.ca.certTTL,
      },
    },
    inbound: {
      // 0.0.0.0: iptables REDIRECT in PREROUTING sends connections to the pod's own address.
      listen: `0.0.0.0:${ports.inbound}`,
      app: `127.0.0.1:${input.appPort}`,
      tcpPorts: [...input.tcpPorts],
    },
    outbound: {
      // REDIRECT in OUTPUT sends the app's connections to 127.0.0.1.
      listen: `127.0.0.1:${ports.outbound}`,
      // With control, the services come from the operator's endpoint discovery (routed by Host).
      services: {},
    },
    // Policies pushed by the operator (the pod name comes from $POD_NAME, set by the downward API),
    // or else read from the namespace's policy ConfigMap.
    ...(options.control !== undefined ? { control: { address: options.control.address, identity: options.control.identity } } : { policyFile: PATHS.policyFile }),
    // On the pod address: the kubelet's probes reach /app-health/* and /ready here.
    admin: `0.0.0.0:${ports.admin}`,
    adminAllowRemote: true,
  };
  if (Object.keys(input.appProbes).length > 0) config['appProbes'] = sortKeys(input.appProbes);
  if (input.validation !== undefined) {
    config['requestValidation'] = {
      openapi: PATHS.apiSpecFile,
      refuseUndeclared: input.validation.refuseUndeclared,
      ...(input.validation.maxBodyBytes !== undefined ? { maxBodyBytes: input.validation.maxBodyBytes } : {}),
    };
  }
  config['drainGracePeriod'] = options.proxy.drainGracePeriod;
  config['logLevel'] = options.proxy.logLevel;
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
