import { MeshError } from '../../core/errors/mesh-error.ts';
import type { InjectOptions } from './inject-options.ts';
import { type Cidr, parseCidrList, parseIncludeCidrs, parsePort, parsePortList } from './port-list.ts';

/** The ztmesh.io/* annotations the injector reads from a pod (template) and writes on it. */
export const ANNOTATIONS = {
  inject: 'ztmesh.io/inject',
  status: 'ztmesh.io/status',
  injectedVersion: 'ztmesh.io/injected-version',
  sidecarConfig: 'ztmesh.io/sidecar-config',
  appPort: 'ztmesh.io/app-port',
  proxyCpu: 'ztmesh.io/proxy-cpu',
  proxyMemory: 'ztmesh.io/proxy-memory',
  proxyCpuLimit: 'ztmesh.io/proxy-cpu-limit',
  proxyMemoryLimit: 'ztmesh.io/proxy-memory-limit',
  excludeInboundPorts: 'ztmesh.io/exclude-inbound-ports',
  excludeOutboundPorts: 'ztmesh.io/exclude-outbound-ports',
  excludeOutboundCidrs: 'ztmesh.io/exclude-outbound-cidrs',
  includeOutboundCidrs: 'ztmesh.io/include-outbound-cidrs',
} as const;

export const NAMESPACE_LABEL = 'ztmesh.io/inject';

/** What a pod's annotations ask for, validated, with the injector options as defaults. */
export interface PodSettings {
  /** undefined: no opinion (the namespace label decides); false: opted out. */
  readonly inject: boolean | undefined;
  readonly appPort: number | undefined;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly Cidr[];
  readonly includeOutboundCidrs: readonly Cidr[] | '*';
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

function quantity(annotations: Record<string, string>, key: string, fallback: string): string {
  const value = annotations[key];
  if (value === undefined) return fallback;
  if (!QUANTITY.test(value.trim())) {
    throw new MeshError('ZTMESH_INJECT_BAD_ANNOTATION', `${key}: ${JSON.stringify(value)} is not a Kubernetes quantity like 100m or 128Mi`, {
      details: { source: key },
    });
  }
  return value.trim();
}

function injectFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'enabled') return true;
  if (v === 'false' || v === 'disabled') return false;
  throw new MeshError('ZTMESH_INJECT_BAD_ANNOTATION', `${ANNOTATIONS.inject}: ${JSON.stringify(value)} is not "true" or "false"`, {
    details: { source: ANNOTATIONS.inject },
  });
}

/** Reads and checks every ztmesh.io/* setting of a pod; a bad value is an error naming its annotation. */
export function readPodSettings(annotations: Record<string, string>, options: InjectOptions): PodSettings {
  const text = (key: string): string | undefined => annotations[key];
  const ports = (key: string, fallback: readonly number[]): readonly number[] => {
    const value = text(key);
    return value === undefined ? fallback : parsePortList(value, key);
  };
  const appPortText = text(ANNOTATIONS.appPort);
  const includeText = text(ANNOTATIONS.includeOutboundCidrs) ?? options.interception.includeOutboundCidrs.join(',');
  const excludeCidrsText = text(ANNOTATIONS.excludeOutboundCidrs) ?? options.interception.excludeOutboundCidrs.join(',');
  return {
    inject: injectFlag(text(ANNOTATIONS.inject)),
    appPort: appPortText === undefined ? undefined : parsePort(appPortText, ANNOTATIONS.appPort),
    requests: {
      cpu: quantity(annotations, ANNOTATIONS.proxyCpu, options.proxy.requests.cpu),
      memory: quantity(annotations, ANNOTATIONS.proxyMemory, options.proxy.requests.memory),
    },
    limits: {
      cpu: quantity(annotations, ANNOTATIONS.proxyCpuLimit, options.proxy.limits.cpu),
      memory: quantity(annotations, ANNOTATIONS.proxyMemoryLimit, options.proxy.limits.memory),
    },
    excludeInboundPorts: ports(ANNOTATIONS.excludeInboundPorts, options.interception.excludeInboundPorts),
    excludeOutboundPorts: ports(ANNOTATIONS.excludeOutboundPorts, options.interception.excludeOutboundPorts),
    excludeOutboundCidrs: parseCidrList(excludeCidrsText, text(ANNOTATIONS.excludeOutboundCidrs) === undefined ? 'injector option interception.excludeOutboundCidrs' : ANNOTATIONS.excludeOutboundCidrs),
    includeOutboundCidrs: parseIncludeCidrs(includeText, text(ANNOTATIONS.includeOutboundCidrs) === undefined ? 'injector option interception.includeOutboundCidrs' : ANNOTATIONS.includeOutboundCidrs),
  };
}
