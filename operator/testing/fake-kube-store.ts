import { randomUUID } from 'node:crypto';
import { applyJsonPatch } from '../webhook/json-patch-apply.ts';
import type { JsonPatchOp } from '../webhook/json-patch-diff.ts';

/** A resource kind the fake serves: where it lives in the API and whether it has a status subresource. */
export interface FakeResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  /** Objects whose `generation` follows spec changes (custom resources do; pods don't here). */
  readonly generation: boolean;
}

export const FAKE_RESOURCES: readonly FakeResource[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true, generation: false },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true, generation: false },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, statusSubresource: true, generation: false },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, statusSubresource: false, generation: true },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, statusSubresource: false, generation: false },
  { group: 'ztmesh.io', version: 'v1alpha1', plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true, statusSubresource: true, generation: true },
  { group: 'ztmesh.io', version: 'v1alpha1', plural: 'meshconfigs', kind: 'MeshConfig', namespaced: false, statusSubresource: true, generation: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true, statusSubresource: false, generation: false },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false, statusSubresource: false, generation: true },
];

export type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface StoreEvent {
  readonly rv: number;
  readonly plural: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
}

/** An API error as the real server answers: a Status object with its HTTP code. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The fake API server's storage: one global resourceVersion counter, objects per resource, and a
 * bounded event history for watches (versions older than the history are "expired": 410).
 */
export class FakeKubeStore {
  #rv = 1;
  readonly #objects = new Map<string, Map<string, Obj>>();
  #history: StoreEvent[] = [];
  /** Watches from a version below this get 410 Gone. */
  #oldestWatchable = 1;
  readonly #historyLimit: number;
  readonly #listeners = new Set<(e: StoreEvent) => void>();

  constructor(historyLimit = 10_000) {
    this.#historyLimit = historyLimit;
    for (const r of FAKE_RESOURCES) this.#objects.set(r.plural, new Map());
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  onEvent(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets all history: every watch from an older version now gets 410 Gone (as after etcd compaction). */
  compact(): void {
    this.#history = [];
    this.#oldestWatchable = this.#rv;
  }

  list(r: FakeResource, namespace: string | undefined): Obj[] {
    const all = [...this.#objects.get(r.plural)!.values()];
    return structuredClone(namespace === undefined ? all : all.filter((o) => o.metadata['namespace'] === namespace));
  }

  get(r: FakeResource, namespace: string | undefined, name: string): Obj {
    const obj = this.#objects.get(r.plural)!.get(this.#key(r, namespace, name));
    if (obj === undefined) throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`);
    return structuredClone(obj);
  }

  /** Events after `rv` for one resource; throws 410 when `rv` is older than the retained history. */
  since(r: FakeResource, rv: number): StoreEvent[] {
    if (rv < this.#oldestWatchable) throw new ApiError(410, 'Expired', `too old resource version: ${rv} (${this.#oldestWatchable})`);
    return this.#history.filter((e) => e.plural === r.plural && e.rv > rv);
  }

  create(r: FakeResource, namespace: string | undefined, body: Obj): Obj {
    const name = body.metadata?.['name'];
    if (typeof name !== 'string' || name === '') throw new ApiError(422, 'Invalid', 'metadata.name: Required value');
    const key = this.#key(r, namespace, name);
    const store = this.#objects.get(r.plural)!;
    if (store.has(key)) throw new ApiError(409, 'AlreadyExists', `${r.plural} "${name}" already exists`);
    const obj: Obj = { ...structuredClone(body), apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, kind: r.kind };
    obj.metadata = { ...obj.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
    if (r.namespaced) obj.metadata['namespace'] = namespace;
    else delete obj.metadata['namespace'];
    if (r.generation) obj.metadata['generation'] = 1;
    return this.#commit(r, key, obj, 'ADDED');
  }

  /** PUT: whole object (or only its status with `subresource: 'status'`), optimistic on metadata.resourceVersion. */
  replace(r: FakeResource, namespace: string | undefined, name: string, body: Obj, subresource: 'status' | undefined): Obj {
    const current = this.get(r, namespace, name);
    const wantRv = body.metadata?.['resourceVersion'];
    if (wantRv !== undefined && wantRv !== current.metadata['resourceVersion']) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    return this.#update(r, namespace, name, current, body, subresource);
  }

  patch(r: FakeResource, namespace: string | undefined, name: string, contentType: string, patch: unknown, subresource: 'status' | undefined): Obj {
    const current = this.get(r, namespace, name);
    let next: Obj;
    try {
      if (contentType.startsWith('application/json-patch+json')) next = applyJsonPatch(current, patch as JsonPatchOp[]) as Obj;
      else if (contentType.startsWith('application/merge-patch+json')) next = mergePatch(current, patch) as Obj;
      else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(422, 'Invalid', `the patch cannot be applied: ${err instanceof Error ? err.message : String(err)}`);
    }
    return this.#update(r, namespace, name, current, next, subresource);
  }

  delete(r: FakeResource, namespace: string | undefined, name: string): Obj {
    const current = this.get(r, namespace, name);
    this.#objects.get(r.plural)!.delete(this.#key(r, namespace, name));
    return this.#commit(r, undefined, current, 'DELETED');
  }

  #update(r: FakeResource, namespace: string | undefined, name: string, current: Obj, body: Obj, subresource: 'status' | undefined): Obj {
    let next: Obj;
    if (subresource === 'status') {
      next = { ...current, status: structuredClone(body['status']) };
    } else {
      next = { ...structuredClone(body), apiVersion: current['apiVersion'], kind: current['kind'] };
      next.metadata = { ...(next.metadata ?? {}), name, uid: current.metadata['uid'], creationTimestamp: current.metadata['creationTimestamp'] };
      if (r.namespaced) next.metadata['namespace'] = namespace;
      // With a status subresource, the main resource's writes leave status alone.
      if (r.statusSubresource) next['status'] = current['status'];
      if (r.generation) {
        const changed = JSON.stringify(next['spec']) !== JSON.stringify(current['spec']);
        next.metadata['generation'] = (current.metadata['generation'] as number) + (changed ? 1 : 0);
      }
    }
    if (JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: undefined } }) === JSON.stringify({ ...current, metadata: { ...current.metadata, resourceVersion: undefined } })) {
      return current; // a no-op write does not bump the resourceVersion, as on a real server
    }
    return this.#commit(r, this.#key(r, namespace, name), next, 'MODIFIED');
  }

  #commit(r: FakeResource, key: string | undefined, obj: Obj, type: StoreEvent['type']): Obj {
    this.#rv++;
    obj.metadata['resourceVersion'] = String(this.#rv);
    if (key !== undefined) this.#objects.get(r.plural)!.set(key, obj);
    const event: StoreEvent = { rv: this.#rv, plural: r.plural, type, object: structuredClone(obj) };
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) {
      this.#history.shift();
      this.#oldestWatchable = this.#history[0]!.rv - 1;
    }
    for (const l of this.#listeners) l(event);
    return structuredClone(obj);
  }

  #key(r: FakeResource, namespace: string | undefined, name: string): string {
    return r.namespaced ? `${namespace ?? ''}/${name}` : name;
  }
}
