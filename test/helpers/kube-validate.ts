/**
 * Validates Kubernetes objects against the Kubernetes OpenAPI schemas shipped by the npm package
 * `kubernetes-models` (generated from the upstream OpenAPI spec; CustomResourceDefinitions are
 * validated as apiextensions.k8s.io/v1 objects). Throws an Error naming the object and the field.
 */
interface ModelClass {
  new (data: unknown): { validate(): void };
}

const cache = new Map<string, ModelClass>();

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const key = `${apiVersion}/${kind}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  if (!/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) throw new Error(`unexpected apiVersion/kind ${key}`);
  const mod = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
  const model = mod[kind];
  if (model === undefined) throw new Error(`kubernetes-models has no ${key}`);
  cache.set(key, model);
  return model;
}

export async function validateKubernetesObject(obj: unknown): Promise<void> {
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') throw new Error('not a Kubernetes object (no apiVersion/kind)');
  const Model = await modelFor(o.apiVersion, o.kind);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${o.kind} ${String(o.metadata?.name)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
