import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { errorCode } from '../core/errors/mesh-error.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { MeshConfig } from '../core/policy/mesh-config.ts';
import type { Logger } from '../core/telemetry/logger.ts';
import type { RunningDistributionServer } from './distribute/distribution-server.ts';
import type { StatusWriter } from './kube/status-writer.ts';
import type { DesiredState } from './reconcile/desired-state.ts';
import { reconcileDistribution, type WorkloadAcks } from './reconcile/distribution-condition.ts';
import { nextStatus, objectKey, type KubeObject, type StatusCondition } from './reconcile/kube-object.ts';
import { reconcileMeshConfig } from './reconcile/mesh-config-reconcile.ts';
import { reconcilePolicyAcceptance } from './reconcile/policy-acceptance.ts';
import { reconcileWorkloads } from './reconcile/workloads-reconcile.ts';
import { reconcileDiscovery, type DiscoveryCatalog, type LeftOutEndpoint } from './reconcile/service-discovery.ts';

/** The caches the loop reads (informers in production). */
export interface ObservedSources {
  readonly policies: { list(): readonly KubernetesObject[] };
  readonly meshConfigs: { list(): readonly KubernetesObject[] };
  readonly pods: { list(): readonly KubernetesObject[] };
  readonly namespaces: { list(): readonly KubernetesObject[] };
  readonly serviceAccounts: { list(): readonly KubernetesObject[] };
  /** Services and EndpointSlices (discovery.k8s.io/v1): endpoint discovery runs when both are given. */
  readonly services?: { list(): readonly KubernetesObject[] };
  readonly endpointSlices?: { list(): readonly KubernetesObject[] };
  /** True once every source listed at least once: nothing is published before. */
  synced(): boolean;
}

/** What `ztmesh status` shows. */
export interface ControlView {
  readonly leader: boolean;
  readonly meshConfig: { readonly trustDomain: string; readonly rootNamespace: string; readonly defaultAction: string } | undefined;
  readonly namespaces: readonly string[];
  readonly policies: readonly { readonly key: string; readonly accepted: boolean; readonly reason: string; readonly field?: string; readonly message: string }[];
  readonly workloads: readonly {
    readonly workload: string;
    readonly identity: string;
    readonly serviceAccountKnown: boolean;
    readonly labels: Readonly<Record<string, string>>;
    readonly policies: readonly string[];
    readonly version: string;
    readonly sidecars: readonly { readonly peer: string; readonly ackedVersion?: string; readonly rejected?: { version: string; reason: string } }[];
  }[];
  /** Endpoint discovery: the meshed Services and the endpoints left out (at most 100 shown). */
  readonly discovery?: { readonly services: readonly { readonly service: string; readonly ports: readonly { readonly port: number; readonly endpoints: number }[] }[]; readonly leftOut: readonly LeftOutEndpoint[] };
}

export interface ControlLoopOptions {
  readonly sources: ObservedSources;
  readonly distribution: RunningDistributionServer;
  readonly statusWriter: StatusWriter;
  readonly isLeader: () => boolean;
  readonly trustDomain: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Traces each reconcile (OTEL_* configured); undefined: no spans. */
  readonly tracer?: Tracer | undefined;
}

type Condition = Omit<StatusCondition, 'lastTransitionTime'>;

/**
 * Observed state → reconcilers → actions: publishes the per-workload snapshots to the distribution
 * service and, on the leader only, writes the policies' and MeshConfig's status conditions.
 * Runs are coalesced: a burst of events costs one reconcile; one status pass at a time.
 */
export class ControlLoop {
  readonly #o: ControlLoopOptions;
  readonly #log: Logger;
  #lastGoodMesh: MeshConfig | undefined = undefined;
  #mesh: MeshConfig | undefined = undefined;
  #desired: DesiredState = new Map();
  #discovery: DiscoveryCatalog | undefined = undefined;
  /** Annotation problems already logged (each once). */
  readonly #logged = new Set<string>();
  #acceptance: ReturnType<typeof reconcilePolicyAcceptance> = { accepted: new Map(), conditions: new Map() };
  #scheduled = false;
  #writing: Promise<void> | undefined = undefined;
  #writeAgain = false;

  constructor(options: ControlLoopOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'control-loop' });
  }

  /** Asks for a reconcile soon (coalesced with other requests in the same turn). */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.reconcile();
    });
  }

  reconcile(): void {
    const { sources } = this.#o;
    if (!sources.synced()) return;
    const span = this.#o.tracer?.startSpan('operator.reconcile');
    try {
      this.#reconcile();
      span?.setAttributes({ 'ztmesh.policies.accepted': this.#acceptance.accepted.size, 'ztmesh.policies.refused': this.#acceptance.conditions.size - this.#acceptance.accepted.size, 'ztmesh.leader': this.#o.isLeader() });
    } catch (err) {
      span?.setAttribute('error.type', errorCode(err));
      span?.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span?.end();
    }
  }

  #reconcile(): void {
    const { sources } = this.#o;
    const acceptance = reconcilePolicyAcceptance(sources.policies.list() as KubeObject[]);
    const mesh = reconcileMeshConfig(sources.meshConfigs.list() as KubeObject[], this.#lastGoodMesh, this.#o.trustDomain);
    this.#lastGoodMesh = mesh.meshConfig;
    const desired = reconcileWorkloads({ pods: sources.pods.list() as KubeObject[], policies: acceptance.accepted.values(), meshConfig: mesh.meshConfig });
    const discovery = sources.services !== undefined && sources.endpointSlices !== undefined
      ? reconcileDiscovery({ services: sources.services.list() as KubeObject[], endpointSlices: sources.endpointSlices.list() as KubeObject[], pods: sources.pods.list() as KubeObject[], namespaces: sources.namespaces.list() as KubeObject[], trustDomain: mesh.meshConfig.trustDomain })
      : undefined;
    this.#logAnnotationProblems(desired);
    this.#o.distribution.publish(desired, discovery);
    this.#desired = desired;
    this.#discovery = discovery;
    this.#acceptance = acceptance;
    this.#mesh = mesh.meshConfig;
    if (this.#o.isLeader()) this.#writeStatuses(mesh.conditions);
  }

  #logAnnotationProblems(desired: DesiredState): void {
    if (this.#logged.size > 10_000) this.#logged.clear();
    for (const [key, w] of desired) {
      for (const problem of w.outbound?.problems ?? []) {
        const id = `${key} ${problem}`;
        if (this.#logged.has(id)) continue;
        this.#logged.add(id);
        this.#log.warn({ code: 'ZTMESH_CONTROL_BAD_OUTBOUND_SERVICES', workload: key, problem }, 'invalid ztmesh.io/outbound-services entry ignored');
      }
    }
  }

  #acks(): Map<string, WorkloadAcks> {
    const acks = new Map<string, { ackedVersions: string[]; rejected: { version: string; reason: string }[] }>();
    for (const s of this.#o.distribution.subscribers()) {
      const entry = acks.get(s.workload) ?? { ackedVersions: [], rejected: [] };
      entry.ackedVersions.push(s.ackedVersion ?? '');
      if (s.rejected !== undefined) entry.rejected.push(s.rejected);
      acks.set(s.workload, entry);
    }
    return acks;
  }

  #writeStatuses(meshConditions: ReadonlyMap<string, Condition>): void {
    if (this.#writing !== undefined) {
      this.#writeAgain = true;
      return;
    }
    const now = new Date(this.#o.clock?.() ?? Date.now()).toISOString();
    const writes: { plural: 'authorizationpolicies' | 'meshconfigs'; namespace: string | undefined; name: string; status: NonNullable<ReturnType<typeof nextStatus>> }[] = [];
    const policies = this.#o.sources.policies.list() as KubeObject[];
    const generations = new Map(policies.map((p) => [objectKey(p), p.metadata?.generation]));
    const distributed = reconcileDistribution(this.#desired, this.#acks(), this.#acceptance.accepted.keys(), generations);
    for (const p of policies) {
      const key = objectKey(p);
      const accepted = this.#acceptance.conditions.get(key);
      if (accepted === undefined) continue;
      const conditions = [accepted, ...(distributed.has(key) ? [distributed.get(key)!] : [])];
      const generation = p.metadata?.generation;
      const status = nextStatus(p.status, { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions }, now);
      if (status !== undefined) writes.push({ plural: 'authorizationpolicies', namespace: p.metadata?.namespace, name: p.metadata?.name ?? '', status });
    }
    for (const m of this.#o.sources.meshConfigs.list() as KubeObject[]) {
      const c = meshConditions.get(objectKey(m));
      if (c === undefined) continue;
      const generation = m.metadata?.generation;
      const status = nextStatus(m.status, { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions: [c] }, now);
      if (status !== undefined) writes.push({ plural: 'meshconfigs', namespace: undefined, name: m.metadata?.name ?? '', status });
    }
    if (writes.length === 0) return;
    this.#writing = (async () => {
      for (const w of writes) {
        try {
          await this.#o.statusWriter.write(w, w.status);
        } catch (err) {
          this.#log.warn({ code: 'ZTMESH_CONTROL_STATUS_WRITE_FAILED', target: `${w.plural}/${w.namespace ?? ''}/${w.name}`, err: { message: err instanceof Error ? err.message : String(err) } }, 'status write failed; retried on the next reconcile');
        }
      }
    })().finally(() => {
      this.#writing = undefined;
      if (this.#writeAgain) {
        this.#writeAgain = false;
        this.schedule();
      }
    });
  }

  view(): ControlView {
    const sas = new Set(this.#o.sources.serviceAccounts.list().map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`));
    const bySub = new Map<string, { peer: string; ackedVersion?: string; rejected?: { version: string; reason: string } }[]>();
    for (const s of this.#o.distribution.subscribers()) {
      const list = bySub.get(s.workload) ?? [];
      list.push({ peer: s.peer, ...(s.ackedVersion !== undefined ? { ackedVersion: s.ackedVersion } : {}), ...(s.rejected !== undefined ? { rejected: s.rejected } : {}) });
      bySub.set(s.workload, list);
    }
    return {
      leader: this.#o.isLeader(),
      meshConfig: this.#mesh === undefined ? undefined : { trustDomain: this.#mesh.trustDomain, rootNamespace: this.#mesh.rootNamespace, defaultAction: this.#mesh.defaultAction },
      namespaces: this.#o.sources.namespaces.list().map((n) => n.metadata?.name ?? '').sort(),
      policies: [...this.#acceptance.conditions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, c]) => ({ key, accepted: c.status === 'True', reason: c.reason, message: c.message, ...(c.field !== undefined ? { field: c.field } : {}) })),
      workloads: [...this.#desired.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, w]) => ({
        workload: key,
        identity: w.identity,
        serviceAccountKnown: sas.has(`${w.namespace}/${w.serviceAccount}`),
        labels: w.labels,
        policies: w.snapshot.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
        version: w.snapshot.version,
        sidecars: bySub.get(key) ?? [],
      })),
      ...(this.#discovery !== undefined
        ? {
            discovery: {
              services: [...this.#discovery.services.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([service, s]) => ({ service, ports: s.ports.map((p) => ({ port: p.port, endpoints: p.endpoints.length })) })),
              leftOut: this.#discovery.leftOut.slice(0, 100),
            },
          }
        : {}),
    };
  }
}
