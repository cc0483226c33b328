import type { InventoryApi } from './api-inventory.ts';
import type { JsonType } from './json-fields.ts';

const OPENAPI_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE']);

function schemaFor(type: JsonType): Record<string, unknown> {
  return type === 'null' ? { nullable: true } : { type };
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** The observed top-level fields as an object schema; sensitive-looking ones marked `x-ztmesh-sensitive`. */
function responseSchema(api: InventoryApi): Record<string, unknown> {
  const sensitive = new Set(api.sensitive);
  const properties = Object.fromEntries(Object.entries(api.responseFields).map(([k, t]) => [k, sensitive.has(k) ? { ...schemaFor(t), 'x-ztmesh-sensitive': true } : schemaFor(t)]));
  return { type: 'object', properties };
}

/**
 * An OpenAPI 3 document of what one service was observed serving: a starting point for its
 * documentation. `{id}` placeholders become numbered path parameters; the response schema lists the
 * sniffed top-level fields; `x-ztmesh-callers` and `x-ztmesh-sensitive` record who called and what looked sensitive.
 */
export function openApiDocument(service: string, apis: readonly InventoryApi[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const api of apis) {
    if (api.service !== service || !OPENAPI_METHODS.has(api.method)) continue;
    let n = 0;
    const params: Record<string, unknown>[] = [];
    const path = api.route.replace(/\{id\}/g, () => {
      const name = n === 0 ? 'id' : `id${n + 1}`;
      n++;
      params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
      return `{${name}}`;
    });
    const item = (paths[path] ??= {});
    const responses: Record<string, unknown> = {};
    for (const cls of Object.keys(api.statusClasses)) {
      const code = cls.toUpperCase();
      const content = cls === '2xx' && Object.keys(api.responseFields).length > 0
        ? { [api.responseContentTypes.find(isJson) ?? 'application/json']: { schema: responseSchema(api) } }
        : undefined;
      responses[code] = content === undefined ? { description: `observed ${api.statusClasses[cls]} times` } : { description: `observed ${api.statusClasses[cls]} times`, content };
    }
    if (Object.keys(responses).length === 0) responses['default'] = { description: 'no completed response observed' };
    item[api.method.toLowerCase()] = {
      summary: `${api.method} ${api.route} (observed ${api.count} calls)`,
      ...(params.length > 0 ? { parameters: params } : {}),
      responses,
      'x-ztmesh-callers': api.callers,
      'x-ztmesh-sensitive': api.sensitive,
      ...(api.sensitiveCallers.length > 0 ? { 'x-ztmesh-sensitive-callers': api.sensitiveCallers } : {}),
      'x-ztmesh-declared': api.declared,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: `${service} (observed by ztmesh)`, version: 'observed', description: 'Generated from live traffic by `ztmesh inventory --openapi`; review before publishing.' },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}
