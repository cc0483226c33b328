import type { JsonPatchOp } from './json-patch-diff.ts';

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Applies add/replace/remove operations as RFC 6902 defines them (the API server's side of the
 * webhook's answer); tests use it to check the patches the webhook returns. Returns a new value.
 */
export function applyJsonPatch(document: unknown, ops: readonly JsonPatchOp[]): unknown {
  let root: unknown = structuredClone(document);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the root');
      root = structuredClone(op.value);
      continue;
    }
    const tokens = op.path.split('/').slice(1).map(unescape);
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const token of tokens) {
      if (parent === null || typeof parent !== 'object') throw new Error(`path ${op.path} does not exist`);
      parent = Object.hasOwn(parent, token) ? (parent as Record<string, unknown>)[token] : undefined;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`bad array index in ${op.path}`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (index >= parent.length) throw new Error(`path ${op.path} does not exist`);
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else parent.splice(index, 1);
    } else if (parent !== null && typeof parent === 'object') {
      const obj = parent as Record<string, unknown>;
      if (op.op !== 'add' && !Object.hasOwn(obj, last)) throw new Error(`path ${op.path} does not exist`);
      if (op.op === 'remove') delete obj[last];
      // An own data property even for keys such as `__proto__` (assignment would set the prototype).
      else Object.defineProperty(obj, last, { value: structuredClone(op.value), writable: true, enumerable: true, configurable: true });
    } else {
      throw new Error(`path ${op.path} does not exist`);
    }
  }
  return root;
}
