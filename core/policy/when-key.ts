/**
 * The `when[].key` attributes supported, as Istio names them. Parsed once at validation and again
 * at compile time into a small descriptor the evaluator switches on.
 */
export type WhenKey =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'claim'; readonly path: readonly string[] }
  | { readonly kind: 'sourceIp' }
  | { readonly kind: 'sourcePrincipal' }
  | { readonly kind: 'sourceNamespace' }
  | { readonly kind: 'destinationPort' }
  | { readonly kind: 'requestPrincipal' }
  | { readonly kind: 'audiences' }
  | { readonly kind: 'presenter' };

export const SUPPORTED_WHEN_KEYS =
  'request.headers[NAME], request.auth.claims[NAME]([NESTED]...), request.auth.principal, request.auth.audiences, ' +
  'request.auth.presenter, source.ip, remote.ip, source.principal, source.namespace, destination.port';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CLAIM_PATH = /^((?:\[[^\[\]]+\])+)$/;

const SIMPLE: Record<string, WhenKey> = {
  'source.ip': { kind: 'sourceIp' },
  'remote.ip': { kind: 'sourceIp' },
  'source.principal': { kind: 'sourcePrincipal' },
  'source.namespace': { kind: 'sourceNamespace' },
  'destination.port': { kind: 'destinationPort' },
  'request.auth.principal': { kind: 'requestPrincipal' },
  'request.auth.audiences': { kind: 'audiences' },
  'request.auth.presenter': { kind: 'presenter' },
};

/** Parses a `when` key; a string is the reason it is not supported. */
export function parseWhenKey(key: string): WhenKey | string {
  const simple = SIMPLE[key];
  if (simple !== undefined) return simple;
  if (key.startsWith('request.headers[') && key.endsWith(']')) {
    const name = key.slice('request.headers['.length, -1);
    if (!HEADER_NAME.test(name)) return `${JSON.stringify(key)}: ${JSON.stringify(name)} is not a valid header name`;
    return { kind: 'header', name: name.toLowerCase() };
  }
  if (key.startsWith('request.auth.claims[')) {
    const m = CLAIM_PATH.exec(key.slice('request.auth.claims'.length));
    if (m === null) return `${JSON.stringify(key)}: claims are written request.auth.claims[name] or request.auth.claims[a][b]`;
    const path = m[1]!.slice(1, -1).split('][');
    return { kind: 'claim', path };
  }
  return `unsupported key ${JSON.stringify(key)}; supported: ${SUPPORTED_WHEN_KEYS}`;
}

/** True for attributes that only exist on HTTP requests (Istio's "HTTP-only" fields). */
export function isHttpOnlyKey(key: WhenKey): boolean {
  return key.kind === 'header' || key.kind === 'claim' || key.kind === 'requestPrincipal' || key.kind === 'audiences' || key.kind === 'presenter';
}
