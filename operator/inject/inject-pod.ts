import { z } from 'zod';
import { zodIssues } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { ANNOTATIONS, type PodSettings, readPodSettings } from './annotations.ts';
import type { InjectOptions } from './inject-options.ts';
import type { Container, PodTemplate } from './k8s-types.ts';
import { rewriteProbes } from './probe-rewrite.ts';
import { renderSidecarConfig } from './sidecar-config.ts';
import { INIT_CONTAINER, PROXY_CONTAINER, initContainer, proxyContainer, sidecarVolumes } from './sidecar-containers.ts';

export type InjectOutcome = 'injected' | 'skipped' | 'already-injected';

export interface InjectPodResult {
  /** The injected pod (template); the input itself, untouched, unless outcome is 'injected'. */
  readonly template: PodTemplate;
  readonly outcome: InjectOutcome;
  /** Why it was skipped or left alone, or what the injector could not do for it. */
  readonly warnings: string[];
}

export interface InjectContext {
  /** The workload's name for the sidecar config when the pod has none (a Deployment's name...). */
  readonly workloadName?: string | undefined;
}

/** Recorded in `ztmesh.io/status`: what was injected, so a second pass can recognise it. */
export interface InjectionStatus {
  readonly version: string;
  readonly initContainers: string[];
  readonly volumes: string[];
}

const nameSchema = z.string().min(1);
const containerSchema = z.looseObject({
  name: nameSchema,
  ports: z.array(z.looseObject({ containerPort: z.int().min(1).max(65535), name: z.string().optional(), protocol: z.string().optional() })).optional(),
});
const probeHolder = z.looseObject({ httpGet: z.looseObject({ port: z.union([z.int(), z.string()]), path: z.string().optional(), host: z.string().optional(), scheme: z.string().optional() }).optional() });
const templateSchema = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().optional(),
      generateName: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: z.looseObject({
    containers: z.array(containerSchema.extend({ livenessProbe: probeHolder.optional(), readinessProbe: probeHolder.optional(), startupProbe: probeHolder.optional() })).min(1),
    initContainers: z.array(containerSchema).optional(),
    volumes: z.array(z.looseObject({ name: nameSchema })).optional(),
    hostNetwork: z.boolean().optional(),
    securityContext: z.looseObject({ fsGroup: z.int().optional() }).optional(),
  }),
});

/**
 * Injects the ztmesh sidecar into one pod (or pod template). Pure: the input is never modified, and
 * the same input and options always give the same output. Idempotent: an injected pod is returned
 * unchanged (outcome 'already-injected'). Bad annotations or shapes throw a MeshError naming them.
 */
export function injectPod(input: unknown, namespace: string, options: InjectOptions, context: InjectContext = {}): InjectPodResult {
  const parsed = templateSchema.safeParse(input);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new MeshError('ZTMESH_INJECT_BAD_POD', `the pod spec cannot be injected: ${issues}`, { details: { issues } });
  }
  const original = input as PodTemplate;
  const annotations = original.metadata?.annotations ?? {};
  if (annotations[ANNOTATIONS.status] !== undefined) {
    checkInjected(original, annotations[ANNOTATIONS.status]);
    return { template: original, outcome: 'already-injected', warnings: ['ZTMESH_INJECT_ALREADY_INJECTED: the pod is already injected; left unchanged'] };
  }
  const settings = readPodSettings(annotations, options);
  if (settings.inject === false) return { template: original, outcome: 'skipped', warnings: [`skipped: annotation ${ANNOTATIONS.inject} is "false"`] };
  if (original.spec.hostNetwork === true) return { template: original, outcome: 'skipped', warnings: ['skipped: the pod uses hostNetwork; its traffic cannot be intercepted'] };
  checkReservedNames(original);

  const warnings: string[] = [];
  const declaredPorts = tcpPorts(original.spec.containers);
  const appPort = chooseAppPort(settings, declaredPorts, warnings);
  checkConflicts(settings, appPort, declaredPorts, options);
  const probes = rewriteProbes(original.spec.containers, options.proxy.ports.admin, settings.excludeInboundPorts);
  warnings.push(...probes.warnings);

  const metadata = original.metadata ?? {};
  const labels = metadata.labels ?? {};
  const sidecarConfig = renderSidecarConfig(
    {
      namespace,
      name: metadata.name ?? context.workloadName ?? labels['app.kubernetes.io/name'] ?? labels['app'] ?? trimGenerateName(metadata.generateName),
      labels,
      appPort,
      tcpPorts: declaredPorts.filter((p) => p !== appPort && !settings.excludeInboundPorts.includes(p)),
      appProbes: probes.appProbes,
      validation: settings.validation,
    },
    options,
  );
  const fsGroup = original.spec.securityContext?.fsGroup;
  const injectedVolumes = sidecarVolumes(options, settings);
  const injectedInit = [initContainer(options, settings), proxyContainer(options, settings, fsGroup ?? options.proxy.uid)];
  const status: InjectionStatus = {
    version: options.version,
    initContainers: injectedInit.map((c) => c.name),
    volumes: injectedVolumes.map((v) => v.name),
  };
  const template: PodTemplate = {
    ...original,
    metadata: {
      ...metadata,
      annotations: {
        ...annotations,
        [ANNOTATIONS.status]: JSON.stringify(status),
        [ANNOTATIONS.injectedVersion]: options.version,
        [ANNOTATIONS.sidecarConfig]: sidecarConfig,
      },
    },
    spec: {
      ...original.spec,
      // The projected token is readable by the pod's fsGroup (mode 0640); give the proxy that group.
      ...(fsGroup === undefined ? { securityContext: { ...original.spec.securityContext, fsGroup: options.proxy.uid } } : {}),
      initContainers: [...injectedInit, ...(original.spec.initContainers ?? [])],
      containers: probes.containers,
      volumes: [...(original.spec.volumes ?? []), ...injectedVolumes],
    },
  };
  return { template, outcome: 'injected', warnings };
}

function checkInjected(pod: PodTemplate, statusText: string | undefined): void {
  let status: unknown;
  try {
    status = JSON.parse(statusText ?? '');
  } catch {
    status = undefined;
  }
  const record = status as Partial<InjectionStatus> | undefined;
  const containers = new Set((pod.spec.initContainers ?? []).map((c) => c.name));
  const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  const complete =
    record !== undefined && record !== null && typeof record === 'object' &&
    Array.isArray(record.initContainers) && Array.isArray(record.volumes) &&
    record.initContainers.every((n) => containers.has(n)) && record.volumes.every((n) => volumes.has(n)) &&
    pod.metadata?.annotations?.[ANNOTATIONS.sidecarConfig] !== undefined;
  if (!complete) {
    throw new MeshError(
      'ZTMESH_INJECT_PARTIALLY_INJECTED',
      `annotation ${ANNOTATIONS.status} is present but the pod lacks what it records (or the record is malformed); remove the ztmesh.io/status annotation and the ztmesh-* containers and volumes, then inject again`,
    );
  }
}

function checkReservedNames(pod: PodTemplate): void {
  const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
  for (const name of [PROXY_CONTAINER, INIT_CONTAINER]) {
    if (names.includes(name)) throw new MeshError('ZTMESH_INJECT_BAD_POD', `the pod already has a container named ${name} but no ${ANNOTATIONS.status} annotation`);
  }
  for (const volume of pod.spec.volumes ?? []) {
    if (volume.name.startsWith('ztmesh-')) throw new MeshError('ZTMESH_INJECT_BAD_POD', `the pod already has a volume named ${volume.name}; ztmesh-* names are reserved`);
  }
}

function tcpPorts(containers: readonly Container[]): number[] {
  const ports: number[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? 'TCP') === 'TCP' && !ports.includes(p.containerPort)) ports.push(p.containerPort);
    }
  }
  return ports;
}

function chooseAppPort(settings: PodSettings, declared: readonly number[], warnings: string[]): number {
  if (settings.appPort !== undefined) return settings.appPort;
  const first = declared.find((p) => !settings.excludeInboundPorts.includes(p));
  if (first !== undefined) return first;
  warnings.push(`no TCP container port is declared and no ${ANNOTATIONS.appPort} annotation is set; inbound requests go to 127.0.0.1:80`);
  return 80;
}

function checkConflicts(settings: PodSettings, appPort: number, declared: readonly number[], options: InjectOptions): void {
  if (settings.excludeInboundPorts.includes(appPort)) {
    throw new MeshError(
      'ZTMESH_INJECT_CONFLICTING_ANNOTATIONS',
      `the app port ${appPort} (${settings.appPort !== undefined ? ANNOTATIONS.appPort : 'the first container port'}) is also listed in ${ANNOTATIONS.excludeInboundPorts}: it would be reachable without mTLS`,
    );
  }
  const proxyPorts = Object.values(options.proxy.ports);
  for (const port of [...declared, appPort]) {
    if (proxyPorts.includes(port)) {
      throw new MeshError('ZTMESH_INJECT_CONFLICTING_ANNOTATIONS', `container port ${port} clashes with a port the sidecar uses (${proxyPorts.join(', ')})`);
    }
  }
}

function trimGenerateName(generateName: string | undefined): string | undefined {
  if (generateName === undefined) return undefined;
  const trimmed = generateName.replace(/-+$/, '');
  return trimmed === '' ? undefined : trimmed;
}
