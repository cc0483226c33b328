/** One RFC 6902 operation of the kinds the diff produces. */
export type JsonPatchOp =
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/** RFC 6901: `~` → `~0`, `/` → `~1` (annotation keys such as ztmesh.io/status contain '/'). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The JSONPatch that turns `from` into `to`: objects are compared key by key; arrays of equal length
 * element by element; an array whose length changed, and any other changed value, is replaced whole
 * (the API server applies the patch to the very object it sent, so whole-array replacement is exact).
 * Applying the result to `from` yields a value deep-equal to `to`.
 */
export function diffJsonPatch(from: unknown, to: unknown, path = ''): JsonPatchOp[] {
  if (deepEqual(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const ops: JsonPatchOp[] = [];
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) ops.push({ op: 'remove', path: `${path}/${escapePointerToken(key)}` });
    }
    for (const [key, value] of Object.entries(to)) {
      const child = `${path}/${escapePointerToken(key)}`;
      if (!Object.hasOwn(from, key)) ops.push({ op: 'add', path: child, value });
      else ops.push(...diffJsonPatch(from[key], value, child));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return from.flatMap((item, i) => diffJsonPatch(item, to[i], `${path}/${i}`));
  }
  return [{ op: 'replace', path, value: to }];
}
