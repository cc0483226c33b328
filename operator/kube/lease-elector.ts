import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../core/telemetry/logger.ts';

export interface LeaseElectorOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (pod name). */
  readonly identity: string;
  readonly logger: Logger;
  /** How long a lease holds without renewal; default 15 s. */
  readonly leaseDurationMs?: number;
  /** How often the holder renews and others retry; default 2 s. */
  readonly retryMs?: number;
  readonly onChange?: (leader: boolean) => void;
  readonly clock?: () => number;
}

function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection: the holder
 * renews every `retryMs`; another replica takes over once `renewTime + leaseDuration` has passed.
 * Writes are optimistic (resourceVersion), so two replicas never both win a round. A leader that
 * cannot renew for a whole lease duration steps down by itself. Only the leader writes status.
 */
export class LeaseElector {
  readonly #o: LeaseElectorOptions;
  readonly #api: CoordinationV1Api;
  readonly #clock: () => number;
  readonly #durationMs: number;
  #leader = false;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #stopped = false;
  #inflight: Promise<void> = Promise.resolve();

  constructor(options: LeaseElectorOptions) {
    this.#o = options;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#clock = options.clock ?? Date.now;
    this.#durationMs = options.leaseDurationMs ?? 15_000;
  }

  isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#stopped = false;
    this.#inflight = this.#tick();
  }

  /** Stops competing; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Let a round in flight finish first, so its renewal cannot land after the release.
    await this.#inflight;
    if (!this.#leader) return;
    this.#set(false);
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity === this.#o.identity) {
        await this.#api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: undefined } } });
      }
    } catch (err) {
      this.#o.logger.warn({ code: 'ZTMESH_CONTROL_LEASE_FAILED', err: { message: String(err) } }, 'could not release the leader lease');
    }
  }

  #set(leader: boolean): void {
    // A round still in flight when stop() was called must not make a stopped replica leader again.
    if (leader && this.#stopped) return;
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.logger.info({ lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity }, leader ? 'became leader' : 'no longer leader');
    this.#o.onChange?.(leader);
  }

  async #tick(): Promise<void> {
    try {
      await this.#round();
    } catch (err) {
      if (this.#leader && this.#clock() - this.#lastRenew > this.#durationMs) this.#set(false);
      if (httpCode(err) !== 409) this.#o.logger.warn({ code: 'ZTMESH_CONTROL_LEASE_FAILED', err: { message: err instanceof Error ? err.message : String(err) } }, 'leader lease round failed');
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#inflight = this.#tick();
    }, this.#o.retryMs ?? 2000);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    const now = this.#clock();
    const { namespace, name, identity } = this.#o;
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (httpCode(err) !== 404) throw err;
      await this.#api.createNamespacedLease({
        namespace,
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.#durationMs / 1000), acquireTime: new Date(now), renewTime: new Date(now), leaseTransitions: 0 } },
      });
      this.#lastRenew = now;
      this.#set(true);
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime !== undefined ? new Date(spec.renewTime).getTime() : 0;
    const duration = (spec.leaseDurationSeconds ?? Math.ceil(this.#durationMs / 1000)) * 1000;
    if (holder !== identity && holder !== '' && renewed + duration > now) {
      this.#set(false);
      return;
    }
    const takeover = holder !== identity;
    await this.#api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
          renewTime: new Date(now),
          ...(takeover ? { acquireTime: new Date(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      },
    });
    this.#lastRenew = now;
    this.#set(true);
  }
}
