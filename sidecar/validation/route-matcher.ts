/**
 * Matches a request's method and normalized path against path templates (`/users/{id}`,
 * `/files/{name}.json`), built once. Fully literal routes are one map lookup; templated ones are a
 * walk down a segment tree per method (one map lookup per path segment), so the cost does not grow
 * with the number of routes. No regular expression runs unless a segment mixes literal text and a
 * parameter. As OpenAPI requires, a literal segment wins over a parameter (`/users/me` before
 * `/users/{id}`), position by position from the left, backtracking when a more specific branch
 * leads nowhere.
 */

class TreeNode<T> {
  readonly literals = new Map<string, TreeNode<T>>();
  /** Segments mixing text and parameters (`{name}.json`), by their template with names erased. */
  readonly partials: { readonly signature: string; readonly re: RegExp; readonly node: TreeNode<T> }[] = [];
  param: TreeNode<T> | undefined = undefined;
  /** The route ending at this node. */
  value: T | undefined = undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class RouteMatcher<T> {
  /** method -> literal path -> value */
  readonly #exact = new Map<string, Map<string, T>>();
  /** method -> segment tree of the templated routes */
  readonly #trees = new Map<string, TreeNode<T>>();

  /** Adds a route; false when the same method and template (parameter names aside) is already there: the first one stays. */
  add(method: string, template: string, value: T): boolean {
    if (!template.includes('{')) {
      let byPath = this.#exact.get(method);
      if (byPath === undefined) this.#exact.set(method, (byPath = new Map()));
      if (byPath.has(template)) return false;
      byPath.set(template, value);
      return true;
    }
    let node = this.#trees.get(method);
    if (node === undefined) this.#trees.set(method, (node = new TreeNode()));
    for (const segment of template.split('/').slice(1)) node = child(node, segment);
    if (node.value !== undefined) return false;
    node.value = value;
    return true;
  }

  /** The value of the most specific route matching `method` and the normalized `path` (no query). */
  match(method: string, path: string): T | undefined {
    const exact = this.#exact.get(method)?.get(path);
    if (exact !== undefined) return exact;
    const tree = this.#trees.get(method);
    return tree === undefined || path.charCodeAt(0) !== 0x2f ? undefined : walk(tree, path, 1);
  }
}

function child<T>(node: TreeNode<T>, segment: string): TreeNode<T> {
  if (!segment.includes('{')) {
    let next = node.literals.get(segment);
    if (next === undefined) node.literals.set(segment, (next = new TreeNode()));
    return next;
  }
  if (/^\{[^{}]+\}$/.test(segment)) return (node.param ??= new TreeNode());
  const signature = segment.replace(/\{[^{}]+\}/g, '{}');
  let partial = node.partials.find((p) => p.signature === signature);
  if (partial === undefined) {
    partial = { signature, re: new RegExp(`^${segment.split(/\{[^{}]+\}/).map(escapeRegExp).join('[^/]+')}$`), node: new TreeNode() };
    node.partials.push(partial);
  }
  return partial.node;
}

/** The value for path[pos..] below `node`: literal child first, then partial templates, then a parameter. */
function walk<T>(node: TreeNode<T>, path: string, pos: number): T | undefined {
  const slash = path.indexOf('/', pos);
  const segment = slash < 0 ? path.slice(pos) : path.slice(pos, slash);
  const literal = node.literals.get(segment);
  if (literal !== undefined) {
    const v = slash < 0 ? literal.value : walk(literal, path, slash + 1);
    if (v !== undefined) return v;
  }
  const partials = node.partials;
  for (let i = 0; i < partials.length; i++) {
    if (!partials[i]!.re.test(segment)) continue;
    const next = partials[i]!.node;
    const v = slash < 0 ? next.value : walk(next, path, slash + 1);
    if (v !== undefined) return v;
  }
  const param = node.param;
  if (param !== undefined && segment.length > 0) return slash < 0 ? param.value : walk(param, path, slash + 1);
  return undefined;
}
