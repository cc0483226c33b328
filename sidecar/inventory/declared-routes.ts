import { ID_PLACEHOLDER } from '../../core/http/route-template.ts';

/** One declared operation: an HTTP method and a route template (`{name}` parameters). */
export interface DeclaredRoute {
  readonly method: string;
  readonly route: string;
}

/** `/users/{userId}` -> `/users/{id}`: declared parameters take the inventory's one placeholder. */
export function canonicalRoute(route: string): string {
  return route.replace(/\{[^/{}]*\}/g, ID_PLACEHOLDER);
}

/**
 * The declared API of a workload, matched against observed (method, template) pairs: a declared
 * `{id}` segment matches any observed segment (`/users/me` is declared by `/users/{id}`).
 */
export class DeclaredApi {
  readonly routes: readonly DeclaredRoute[];
  readonly #exact: Set<string>;
  readonly #patterns: readonly { readonly method: string; readonly route: string; readonly segments: readonly string[] }[];

  constructor(routes: readonly DeclaredRoute[]) {
    this.routes = routes.map((r) => ({ method: r.method.toUpperCase(), route: canonicalRoute(r.route) }));
    this.#exact = new Set(this.routes.map((r) => `${r.method} ${r.route}`));
    this.#patterns = this.routes.filter((r) => r.route.includes(ID_PLACEHOLDER)).map((r) => ({ ...r, segments: r.route.split('/') }));
  }

  /** The declared route that covers an observed call, or undefined (a shadow API). */
  match(method: string, route: string): DeclaredRoute | undefined {
    const key = `${method} ${route}`;
    if (this.#exact.has(key)) return this.routes.find((r) => r.method === method && r.route === route);
    const segments = route.split('/');
    for (const p of this.#patterns) {
      if (p.method !== method || p.segments.length !== segments.length) continue;
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) ok = p.segments[i] === ID_PLACEHOLDER || p.segments[i] === segments[i];
      if (ok) return p;
    }
    return undefined;
  }
}
