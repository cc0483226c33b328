import type { X509Certificate } from 'node:crypto';
import { parseSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { readSvidExtensions } from './svid-extensions.ts';

/** What the SVID rules need from a leaf, parsed once per certificate (cached by fingerprint). */
interface LeafFacts {
  readonly isCa: boolean;
  readonly signsCerts: boolean;
  readonly uris: readonly string[];
}

const MAX_CACHED = 1024;
const factsCache = new Map<string, LeafFacts>();

function leafFacts(cert: X509Certificate): LeafFacts {
  const key = cert.fingerprint256;
  const cached = factsCache.get(key);
  if (cached !== undefined) return cached;
  const extensions = readSvidExtensions(cert.raw);
  const facts: LeafFacts = { isCa: cert.ca || extensions.isCa, signsCerts: extensions.signsCerts, uris: extensions.uris };
  if (factsCache.size >= MAX_CACHED) factsCache.delete(factsCache.keys().next().value!);
  factsCache.set(key, facts);
  return facts;
}

/**
 * The X.509-SVID rules for a peer's leaf certificate (its chain was already verified against the
 * trust bundle by the TLS handshake): exactly one URI SAN that is a valid SPIFFE ID in an accepted
 * trust domain, not a CA, no keyCertSign/cRLSign, within validity at `now`.
 */
export function verifyPeerSvid(
  cert: X509Certificate,
  opts: { trustDomains: ReadonlySet<string>; now: number },
): { ok: true; id: SpiffeId } | { ok: false; reason: string } {
  if (opts.now < cert.validFromDate.getTime()) return { ok: false, reason: 'certificate is not yet valid' };
  if (opts.now > cert.validToDate.getTime()) return { ok: false, reason: 'certificate has expired' };
  let facts: LeafFacts;
  try {
    facts = leafFacts(cert);
  } catch {
    return { ok: false, reason: 'certificate extensions cannot be parsed' };
  }
  if (facts.isCa) return { ok: false, reason: 'leaf certificate is a CA' };
  if (facts.signsCerts) return { ok: false, reason: 'leaf certificate has keyCertSign or cRLSign key usage' };
  if (facts.uris.length === 0) return { ok: false, reason: 'no URI SAN' };
  if (facts.uris.length > 1) return { ok: false, reason: 'more than one URI SAN' };
  let id: SpiffeId;
  let trustDomain: string;
  try {
    const parsed = parseSpiffeId(facts.uris[0]!);
    id = parsed.id;
    trustDomain = parsed.trustDomain;
  } catch {
    return { ok: false, reason: 'URI SAN is not a SPIFFE ID' };
  }
  if (!opts.trustDomains.has(trustDomain)) return { ok: false, reason: 'SPIFFE ID is not in an accepted trust domain' };
  return { ok: true, id };
}
