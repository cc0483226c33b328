import type { PodSettings } from './annotations.ts';
import { ANNOTATIONS } from './annotations.ts';
import type { InjectOptions } from './inject-options.ts';
import type { Container } from './k8s-types.ts';
import { PATHS } from './sidecar-config.ts';

export const PROXY_CONTAINER = 'ztmesh-proxy';
/** The ConfigMap, in the pod's namespace, holding the AuthorizationPolicies its sidecar enforces. */
export const POLICIES_CONFIG_MAP = 'ztmesh-policies';
export const INIT_CONTAINER = 'ztmesh-init';
export const VOLUMES = {
  config: 'ztmesh-config',
  identity: 'ztmesh-identity',
  data: 'ztmesh-data',
  initRun: 'ztmesh-init-run',
  /** Only with `ztmesh.io/api-spec`: the pod's OpenAPI document, from its ConfigMap. */
  apiSpec: 'ztmesh-api-spec',
} as const;

function restricted() {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The interception init container: `ztmesh iptables ...` as root with only NET_ADMIN and NET_RAW
 * (the one container that cannot run as non-root; the Istio CNI plugin exists to avoid it). It writes
 * only the xtables lock under /run, an emptyDir, so its root filesystem stays read-only.
 */
export function initContainer(options: InjectOptions, settings: PodSettings): Container {
  const { ports } = options.proxy;
  const args = [
    'iptables',
    '--proxy-uid', String(options.proxy.uid),
    '--inbound-port', String(ports.inbound),
    '--outbound-port', String(ports.outbound),
    '--admin-port', String(ports.admin),
  ];
  const lists: [string, string][] = [
    ['--exclude-inbound-ports', settings.excludeInboundPorts.join(',')],
    ['--exclude-outbound-ports', settings.excludeOutboundPorts.join(',')],
    ['--exclude-outbound-cidrs', settings.excludeOutboundCidrs.map((c) => c.text).join(',')],
    ['--include-outbound-cidrs', settings.includeOutboundCidrs === '*' ? '*' : settings.includeOutboundCidrs.map((c) => c.text).join(',')],
  ];
  for (const [flag, value] of lists) if (value !== '') args.push(flag, value);
  if (options.proxy.ipv6) args.push('--ipv6');
  return {
    name: INIT_CONTAINER,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    args,
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
    securityContext: {
      ...restricted(),
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    },
    volumeMounts: [{ name: VOLUMES.initRun, mountPath: '/run' }],
  };
}

/**
 * The sidecar as a native sidecar (an init container with restartPolicy Always, Kubernetes 1.29+):
 * started, and ready per its startup probe, before the app containers; stopped after them.
 */
export function proxyContainer(options: InjectOptions, settings: PodSettings, group: number): Container {
  const { ports } = options.proxy;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: ports.admin, scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
  });
  return {
    name: PROXY_CONTAINER,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    restartPolicy: 'Always',
    args: ['sidecar', '--config', PATHS.configFile],
    ...(options.control !== undefined ? { env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } : {}),
    ports: [
      { name: 'ztmesh-inbound', containerPort: ports.inbound, protocol: 'TCP' },
      { name: 'ztmesh-admin', containerPort: ports.admin, protocol: 'TCP' },
    ],
    resources: { requests: { ...settings.requests }, limits: { ...settings.limits } },
    securityContext: { ...restricted(), runAsUser: options.proxy.uid, runAsGroup: group, runAsNonRoot: true },
    // The app starts once the sidecar's process is up (/healthz); the pod becomes Ready only when
    // the sidecar holds an identity and a policy set (/ready). Holding the app until /ready would
    // keep it from starting at all while its namespace has no policy ConfigMap yet.
    startupProbe: probe('/healthz', 1, 60),
    readinessProbe: probe('/ready', 5, 3),
    livenessProbe: probe('/healthz', 10, 3),
    volumeMounts: [
      { name: VOLUMES.config, mountPath: PATHS.configDir, readOnly: true },
      { name: VOLUMES.identity, mountPath: PATHS.identityDir, readOnly: true },
      { name: VOLUMES.data, mountPath: PATHS.dataDir },
      ...(settings.validation !== undefined ? [{ name: VOLUMES.apiSpec, mountPath: PATHS.apiSpecDir, readOnly: true }] : []),
    ],
  };
}

/** The volumes the two containers mount. */
export function sidecarVolumes(options: InjectOptions, settings: PodSettings): { name: string; [key: string]: unknown }[] {
  return [
    {
      // The per-pod config lives in the pod's own annotation: no ConfigMap to create per pod, so the
      // webhook has no side effects, and the config is exactly as old as the pod. The namespace's
      // policies come from an optional ConfigMap: until it exists the sidecar denies everything
      // (fail closed), and it reloads the file when the kubelet updates it.
      name: VOLUMES.config,
      projected: {
        sources: [
          { downwardAPI: { items: [{ path: 'sidecar.yaml', fieldRef: { fieldPath: `metadata.annotations['${ANNOTATIONS.sidecarConfig}']` } }] } },
          ...(options.control === undefined ? [{ configMap: { name: POLICIES_CONFIG_MAP, optional: true, items: [{ key: 'policies.yaml', path: 'policies.yaml' }] } }] : []),
        ],
      },
    },
    {
      name: VOLUMES.identity,
      projected: {
        sources: [
          { serviceAccountToken: { audience: options.ca.tokenAudience, expirationSeconds: options.ca.tokenExpirationSeconds, path: 'token' } },
          { configMap: { name: options.ca.bundleConfigMap, items: [{ key: 'bundle.pem', path: 'bundle.pem' }] } },
        ],
      },
    },
    { name: VOLUMES.data, emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    { name: VOLUMES.initRun, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    // Not optional: a sidecar told to validate against a document it cannot read would not start;
    // until the ConfigMap exists the kubelet holds the pod in ContainerCreating, with an event naming it.
    ...(settings.validation !== undefined
      ? [{ name: VOLUMES.apiSpec, configMap: { name: settings.validation.apiSpec.configMap, items: [{ key: settings.validation.apiSpec.key, path: 'openapi.yaml' }] } }]
      : []),
  ];
}
