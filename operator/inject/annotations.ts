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
  apiSpec: 'ztmesh.io/api-spec',
  refuseUndeclared: 'ztmesh.io/refuse-undeclared',
  validationMaxBodyBytes: 'ztmesh.io/validation-max-body-bytes',
} as const;

/** The key of the `ztmesh.io/api-spec` ConfigMap read when the annotation names none. */
export const DEFAULT_API_SPEC_KEY = 'openapi.yaml';

/** The workload's declared API: an OpenAPI 3 document in a ConfigMap of the pod's namespace. */
export interface ApiSpecSource {
  readonly configMap: string;
  readonly key: string;
}

/** What the pod asks of the sidecar's request validation; undefined: none (no `ztmesh.io/api-spec`). */
export interface ValidationSettings {
  readonly apiSpec: ApiSpecSource;
  readonly refuseUndeclared: boolean;
  /** undefined: the sidecar's default. */
  readonly maxBodyBytes: number | undefined;
}

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
  readonly validation: ValidationSettings | undefined;
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

function badAnnotation(key: string, value: string, reason: string): MeshError {
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return new MeshError('ZTMESH_INJECT_BAD_ANNOTATION', `${key}: ${JSON.stringify(shown)} ${reason}`, { details: { source: key } });
}

function flag(key: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'enabled') return true;
  if (v === 'false' || v === 'disabled') return false;
  throw badAnnotation(key, value, 'is not "true" or "false"');
}

function injectFlag(value: string | undefined): boolean | undefined {
  return flag(ANNOTATIONS.inject, value);
}

// A ConfigMap name is a DNS subdomain; a ConfigMap key is [-._a-zA-Z0-9]+ (not "." or "..").
const CONFIG_MAP_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** `ztmesh.io/api-spec: NAME[/KEY]`: the ConfigMap (in the pod's namespace) and key of the OpenAPI document. */
export function parseApiSpec(value: string): ApiSpecSource {
  const text = value.trim();
  const slash = text.indexOf('/');
  const configMap = slash === -1 ? text : text.slice(0, slash);
  const key = slash === -1 ? DEFAULT_API_SPEC_KEY : text.slice(slash + 1);
  if (configMap.length > 253 || !CONFIG_MAP_NAME.test(configMap)) {
    throw badAnnotation(ANNOTATIONS.apiSpec, value, 'does not start with a ConfigMap name (lowercase letters, digits, "-" and ".")');
  }
  if (key.length > 253 || key === '.' || key === '..' || !CONFIG_MAP_KEY.test(key)) {
    throw badAnnotation(ANNOTATIONS.apiSpec, value, `has no valid ConfigMap key after "/" (letters, digits, "-", "_", "."; default ${DEFAULT_API_SPEC_KEY})`);
  }
  return { configMap, key };
}

/** Largest `ztmesh.io/validation-max-body-bytes` (the sidecar's own limit for requestValidation.maxBodyBytes). */
export const MAX_VALIDATION_BODY_BYTES = 64 * 1024 * 1024;

function bodyBytes(value: string): number {
  const text = value.trim();
  const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_VALIDATION_BODY_BYTES)) {
    throw badAnnotation(ANNOTATIONS.validationMaxBodyBytes, value, `is not a whole number of bytes from 1 to ${MAX_VALIDATION_BODY_BYTES}`);
  }
  return n;
}

/**
 * The request-validation annotations. `refuse-undeclared` and `validation-max-body-bytes` without
 * `api-spec` would configure validation of an API that is not declared: refused as conflicting.
 */
function readValidation(annotations: Record<string, string>): ValidationSettings | undefined {
  const specText = annotations[ANNOTATIONS.apiSpec];
  const refuseText = annotations[ANNOTATIONS.refuseUndeclared];
  const maxBodyText = annotations[ANNOTATIONS.validationMaxBodyBytes];
  const refuseUndeclared = flag(ANNOTATIONS.refuseUndeclared, refuseText) ?? false;
  const maxBodyBytes = maxBodyText === undefined ? undefined : bodyBytes(maxBodyText);
  if (specText === undefined) {
    const orphan = [refuseText === undefined ? undefined : ANNOTATIONS.refuseUndeclared, maxBodyText === undefined ? undefined : ANNOTATIONS.validationMaxBodyBytes].filter((k) => k !== undefined);
    if (orphan.length > 0) {
      throw new MeshError('ZTMESH_INJECT_CONFLICTING_ANNOTATIONS', `${orphan.join(' and ')} need ${ANNOTATIONS.apiSpec}: no API is declared to validate requests against`, {
        details: { source: orphan[0] },
      });
    }
    return undefined;
  }
  return { apiSpec: parseApiSpec(specText), refuseUndeclared, maxBodyBytes };
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
    validation: readValidation(annotations),
  };
}
