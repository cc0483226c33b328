import { MeshError } from '../errors/mesh-error.ts';

/**
 * SPIFFE IDs as the SPIFFE-ID specification defines them (spiffe/standards SPIFFE-ID.md):
 * `spiffe://<trust-domain>/<path>`, lowercase scheme, trust domain of [a-z0-9._-], no port or
 * userinfo, path segments of [A-Za-z0-9._-], no empty, `.` or `..` segment, no trailing slash,
 * no query, fragment or percent-encoding, at most 2048 bytes.
 */
declare const brand: unique symbol;
export type SpiffeId = string & { readonly [brand]: 'SpiffeId' };

export interface ParsedSpiffeId {
  readonly id: SpiffeId;
  readonly trustDomain: string;
  /** The path, '' for a trust domain's own ID, else starting with '/'. */
  readonly path: string;
}

export const MAX_SPIFFE_ID_BYTES = 2048;
const PREFIX = 'spiffe://';

function invalid(reason: string, input: string): MeshError {
  // The input is attacker-controlled: quote a bounded prefix only.
  const shown = input.length > 100 ? `${input.slice(0, 100)}...` : input;
  return new MeshError('ZTMESH_SPIFFE_INVALID_ID', `invalid SPIFFE ID ${JSON.stringify(shown)}: ${reason}`, {
    details: { reason },
  });
}

function isTrustDomainChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f;
}

function isPathChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f
  );
}

/** Checks a trust domain name alone; returns the reason it is invalid, or undefined. */
export function trustDomainError(td: string): string | undefined {
  if (td.length === 0) return 'trust domain is missing';
  for (let i = 0; i < td.length; i++) {
    const c = td.charCodeAt(i);
    if (isTrustDomainChar(c)) continue;
    if (c === 0x3a) return 'trust domain must not include a port';
    if (c === 0x40) return 'trust domain must not include userinfo';
    if (c >= 0x41 && c <= 0x5a) return 'trust domain must be lowercase';
    if (c === 0x25) return 'trust domain must not be percent-encoded';
    return 'trust domain characters are limited to lowercase letters, digits, dots, dashes and underscores';
  }
  return undefined;
}

export function parseSpiffeId(input: string): ParsedSpiffeId {
  if (typeof input !== 'string' || input.length === 0) throw invalid('cannot be empty', String(input));
  if (Buffer.byteLength(input, 'utf8') > MAX_SPIFFE_ID_BYTES) throw invalid(`longer than ${MAX_SPIFFE_ID_BYTES} bytes`, input);
  if (!input.startsWith(PREFIX)) {
    if (input.toLowerCase().startsWith(PREFIX)) throw invalid('scheme must be lowercase "spiffe"', input);
    throw invalid('scheme must be "spiffe://"', input);
  }
  const rest = input.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  // Query and fragment characters are not in either allowed set; name them specifically.
  if (input.includes('?')) throw invalid('query is not allowed', input);
  if (input.includes('#')) throw invalid('fragment is not allowed', input);
  const tdError = trustDomainError(trustDomain);
  if (tdError !== undefined) throw invalid(tdError, input);
  if (path.length > 0) {
    const pathReason = pathError(path);
    if (pathReason !== undefined) throw invalid(pathReason, input);
  }
  return { id: input as SpiffeId, trustDomain, path };
}

function pathError(path: string): string | undefined {
  // path starts with '/'
  let segStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i === path.length ? 0x2f : path.charCodeAt(i);
    if (c === 0x2f) {
      const seg = path.slice(segStart, i);
      if (seg.length === 0) return i === path.length ? 'path cannot have a trailing slash' : 'path cannot contain empty segments';
      if (seg === '.' || seg === '..') return 'path cannot contain dot segments';
      segStart = i + 1;
      continue;
    }
    if (c === 0x25) return 'path cannot contain percent-encoded characters';
    if (!isPathChar(c)) return 'path segment characters are limited to letters, numbers, dots, dashes and underscores';
  }
  return undefined;
}

export function isSpiffeId(input: string): input is SpiffeId {
  try {
    parseSpiffeId(input);
    return true;
  } catch {
    return false;
  }
}

/** The Kubernetes workload identity: spiffe://<td>/ns/<namespace>/sa/<service-account>. */
export function kubernetesSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
  const id = `${PREFIX}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  // A '/' in either name would still make a valid SPIFFE ID, but of another shape (and another workload's).
  if (namespace.includes('/') || serviceAccount.includes('/')) throw invalid('namespace and service account must each be one path segment', id);
  return parseSpiffeId(id).id;
}

/** The namespace and service account of a Kubernetes-shaped SPIFFE ID, or undefined for other shapes. */
export function kubernetesParts(id: SpiffeId | ParsedSpiffeId): { namespace: string; serviceAccount: string } | undefined {
  const parsed = typeof id === 'string' ? parseSpiffeId(id) : id;
  const m = /^\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(parsed.path);
  if (m === null) return undefined;
  return { namespace: m[1]!, serviceAccount: m[2]! };
}
