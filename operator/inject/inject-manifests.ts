import { parseAllDocuments, stringify } from 'yaml';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { InjectOptions } from './inject-options.ts';
import { injectPod } from './inject-pod.ts';

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export interface InjectWarning {
  /** `Kind namespace/name` of the object the warning is about. */
  readonly object: string;
  readonly message: string;
}

export interface InjectManifestsResult {
  readonly docs: unknown[];
  readonly warnings: InjectWarning[];
}

export interface InjectManifestsOptions {
  /** The namespace of objects that name none (kubectl's current namespace). */
  readonly namespace: string;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Injects every workload in `docs` (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
 * CronJobs, and `List`s of them); other kinds pass through unchanged. Pure; the input is not modified.
 * A document that is not a Kubernetes object, or a workload that cannot be injected, throws a
 * MeshError whose message names the object.
 */
export function injectManifests(docs: readonly unknown[], options: InjectOptions, manifest: InjectManifestsOptions): InjectManifestsResult {
  const warnings: InjectWarning[] = [];
  const out = docs.map((doc, index) => injectObject(doc, `document ${index + 1}`, options, manifest, warnings));
  return { docs: out, warnings };
}

function injectObject(doc: unknown, where: string, options: InjectOptions, manifest: InjectManifestsOptions, warnings: InjectWarning[]): unknown {
  if (!isObject(doc) || typeof doc['kind'] !== 'string' || typeof doc['apiVersion'] !== 'string') {
    throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `${where} is not a Kubernetes object: it needs apiVersion and kind`);
  }
  const kind = doc['kind'];
  if (kind === 'List' || kind.endsWith('List')) {
    const items = doc['items'];
    if (!Array.isArray(items)) throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `${where} (${kind}) has no items array`);
    return { ...doc, items: items.map((item, i) => injectObject(item, `${where} item ${i + 1}`, options, manifest, warnings)) };
  }
  const path = TEMPLATE_PATH[kind];
  if (path === undefined) return doc;
  const metadata = isObject(doc['metadata']) ? doc['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : manifest.namespace;
  const object = `${kind} ${namespace}/${name ?? '(unnamed)'}`;
  const template = getPath(doc, path);
  if (!isObject(template)) throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `${object}: no pod template at .${path.join('.')}`);
  let result;
  try {
    result = injectPod(template, namespace, options, { workloadName: name });
  } catch (err) {
    if (err instanceof MeshError) throw new MeshError(err.code, `${object}: ${err.message}`, { cause: err, details: { object } });
    throw err;
  }
  for (const message of result.warnings) warnings.push({ object, message });
  return result.outcome === 'injected' ? setPath(doc, path, result.template) : doc;
}

function getPath(doc: Obj, path: readonly string[]): unknown {
  let node: unknown = doc;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return node;
}

function setPath(doc: Obj, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const child = doc[head];
  return { ...doc, [head]: setPath(isObject(child) ? child : {}, rest, value) };
}

/** Parses multi-document YAML (or JSON) into objects; empty documents are dropped. */
export function parseManifestText(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text, { strict: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const [index, doc] of list.entries()) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line;
      throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `${source} is not valid YAML (document ${index + 1}${line === undefined ? '' : `, line ${line}`}): ${error.message.split('\n')[0]}`, {
        cause: error,
      });
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Prints objects as multi-document YAML, the way `kubectl` reads them back. */
export function formatManifestText(docs: readonly unknown[]): string {
  return docs.map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
