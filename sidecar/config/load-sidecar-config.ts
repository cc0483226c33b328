import { anomalyConfig, type AnomalyConfig } from '../anomaly/anomaly-config.ts';
import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../../core/config/load.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { resolveHttp1Limits, type Http1Limits } from '../http1/limits.ts';
import type { RequestAuthenticationConfig } from '../authn/jwt-config.ts';
import type { BodyLimit } from '../inbound/body-limits.ts';
import type { RequestValidationConfig } from '../validation/request-validation-config.ts';
import type { HostPort } from './host-port.ts';
import type { ResponseFieldsOptions } from '../inventory/api-inventory.ts';
import type { RetrySettings, ServiceRoute } from '../outbound/service-table.ts';
import { sidecarConfigSchema, type SidecarConfigInput } from './sidecar-config-schema.ts';

export type IdentityConfig =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string; readonly bundleFile: string }
  | {
      readonly kind: 'ca';
      readonly address: HostPort;
      readonly bundleFile: string;
      readonly tokenFile: string;
      readonly caIdentity: SpiffeId | undefined;
      readonly ttl: string | undefined;
    };

export interface ServiceConfig {
  readonly name: string;
  /** The destination sidecars (the single `address` form gives one). */
  readonly endpoints: readonly HostPort[];
  readonly balancer: 'p2c-ewma' | 'round-robin';
  readonly identity: SpiffeId;
  readonly protocol: 'http' | 'tcp';
  readonly listen: HostPort | undefined;
  readonly port: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: RetrySettings | undefined;
  readonly routes: readonly ServiceRoute[];
}

export interface AppProbeConfig {
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

/** The validated, frozen sidecar config; every file path absolute (resolved against the config file's directory). */
export interface SidecarConfig {
  readonly source: string;
  readonly trustDomain: string;
  readonly workload: { readonly namespace: string; readonly name: string | undefined; readonly labels: Readonly<Record<string, string>> };
  readonly identity: IdentityConfig;
  readonly inbound: {
    readonly listen: HostPort;
    readonly app: HostPort;
    readonly tcpPorts: readonly number[];
    readonly allowedSourceCidrs: readonly string[] | undefined;
    readonly bodyLimits: readonly BodyLimit[];
  };
  readonly outbound: { readonly listen: HostPort; readonly services: readonly ServiceConfig[] };
  /** End-user JWT rules (jwksFile paths resolved); undefined: tokens are not examined. */
  readonly requestAuthentication: RequestAuthenticationConfig | undefined;
  /** Policies from this file; undefined when `control` is set (exactly one of the two). */
  readonly policyFile: string | undefined;
  readonly meshConfigFile: string | undefined;
  /** Policies from the operator: its address and SPIFFE ID, and this pod's name (undefined: $POD_NAME). */
  readonly control: { readonly address: HostPort; readonly identity: string; readonly podName: string | undefined; readonly reportIntervalMs: number } | undefined;
  readonly admin: HostPort;
  readonly adminAllowRemote: boolean;
  readonly appProbes: ReadonlyMap<string, AppProbeConfig>;
  readonly drainGraceMs: number;
  /** On SIGTERM, how long the inbound listener still accepts (with GOAWAY / Connection: close) before closing. */
  readonly drainNoticeMs: number;
  readonly limits: Http1Limits;
  readonly audit: { readonly sampleAllowed: number; readonly headers: readonly string[] | undefined };
  readonly logLevel: string;
  readonly inventory: { readonly enabled: boolean; readonly maxRoutes: number; readonly responseFields: ResponseFieldsOptions };
  /** Anomaly detection; `enabled: false` (the default) records nothing. */
  readonly anomaly: AnomalyConfig;
  /** Request validation and the declared API (openapi path resolved); undefined: requests are not validated. */
  readonly requestValidation: RequestValidationConfig | undefined;
}

/**
 * Reads and validates a sidecar config file (every problem reported at once, as ZTMESH_CONFIG_INVALID
 * naming each key path), then returns the typed, frozen result.
 */
export function loadSidecarConfig(file: string): SidecarConfig {
  return fromInput(loadConfigFile(sidecarConfigSchema, file), file);
}

export function fromInput(c: Readonly<SidecarConfigInput>, file: string): SidecarConfig {
  const base = dirname(resolve(file));
  const at = (p: string): string => resolve(base, p);
  const id = c.identity;
  const identity: IdentityConfig =
    id.ca !== undefined
      ? { kind: 'ca', address: id.ca.address, bundleFile: at(id.ca.bundleFile), tokenFile: at(id.ca.tokenFile), caIdentity: id.ca.identity, ttl: id.ca.ttl }
      : { kind: 'files', certFile: at(id.certFile!), keyFile: at(id.keyFile!), bundleFile: at(id.bundleFile!) };
  const config: SidecarConfig = {
    source: resolve(file),
    trustDomain: c.trustDomain,
    workload: { namespace: c.workload.namespace, name: c.workload.name, labels: c.workload.labels },
    identity,
    inbound: { listen: c.inbound.listen, app: c.inbound.app, tcpPorts: c.inbound.tcpPorts, allowedSourceCidrs: c.inbound.allowedSourceCidrs, bodyLimits: c.inbound.bodyLimits },
    outbound: {
      listen: c.outbound.listen,
      services: Object.entries(c.outbound.services).map(([name, s]) => ({
        name, endpoints: s.endpoints ?? (s.address === undefined ? [] : [s.address]), balancer: s.balancer, identity: s.identity, protocol: s.protocol, listen: s.listen, port: s.port,
        timeoutMs: s.timeout, retry: s.retry,
        routes: s.routes.map((r) => ({ pathPrefix: r.pathPrefix, retryable: r.retryable, ...(r.timeout !== undefined ? { timeoutMs: r.timeout } : {}) })),
      })),
    },
    requestAuthentication:
      c.requestAuthentication === undefined
        ? undefined
        : { ...c.requestAuthentication, jwtRules: c.requestAuthentication.jwtRules.map((r) => (r.jwksFile === undefined ? r : { ...r, jwksFile: at(r.jwksFile) })) },
    policyFile: c.policyFile === undefined ? undefined : at(c.policyFile),
    control:
      c.control === undefined
        ? undefined
        : { address: c.control.address, identity: c.control.identity ?? `spiffe://${c.trustDomain}/ns/ztmesh-system/sa/ztmesh-operator`, podName: c.control.podName, reportIntervalMs: c.control.reportInterval },
    meshConfigFile: c.meshConfigFile === undefined ? undefined : at(c.meshConfigFile),
    admin: c.admin,
    adminAllowRemote: c.adminAllowRemote,
    appProbes: new Map(Object.entries(c.appProbes).map(([name, p]) => [name, { host: p.host ?? '127.0.0.1', port: p.port, path: p.path }])),
    drainGraceMs: c.drainGracePeriod,
    drainNoticeMs: c.drainNoticePeriod,
    limits: resolveHttp1Limits(c.limits),
    audit: { sampleAllowed: c.audit.sampleAllowed, headers: c.audit.headers },
    logLevel: c.logLevel,
    inventory: { enabled: c.inventory.enabled, maxRoutes: c.inventory.maxRoutes, responseFields: { ...c.inventory.responseFields } },
    anomaly: c.anomaly ?? anomalyConfig(),
    requestValidation:
      c.requestValidation === undefined
        ? undefined
        : { ...c.requestValidation, openapi: c.requestValidation.openapi === undefined ? undefined : at(c.requestValidation.openapi), source: resolve(file) },
  };
  return Object.freeze(config);
}
