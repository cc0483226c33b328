import { X509Certificate } from 'node:crypto';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { checkSvidProfile } from './svid-profile.ts';

/** What a verified X.509-SVID says. */
export interface VerifiedSvid {
  readonly spiffeId: SpiffeId;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly leaf: X509Certificate;
}

export interface TrustAnchors {
  readonly trustDomain: string;
  /** The bundle: self-signed roots. */
  readonly roots: readonly X509Certificate[];
}

function bad(reason: string, details?: Record<string, unknown>): MeshError {
  return new MeshError('ZTMESH_CA_BAD_SVID', `not a valid X.509-SVID: ${reason}`, { details: { reason, ...details } });
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function within(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

/**
 * Verifies an X.509-SVID chain (leaf first, then intermediates) against the bundle at `nowMs`:
 * each link's signature and issuer name, each CA link a CA, every certificate within its validity,
 * the chain ending at a bundle root, the leaf in the SVID profile and in the trust domain.
 */
export function verifySvid(chain: readonly X509Certificate[], anchors: TrustAnchors, nowMs: number): VerifiedSvid {
  const leaf = chain[0];
  if (leaf === undefined) throw bad('empty certificate chain');
  if (chain.length > 5) throw bad('certificate chain longer than 5');
  let current = leaf;
  let anchored = false;
  for (let i = 1; i <= chain.length; i++) {
    if (!within(current, nowMs)) throw bad(`certificate ${i - 1} of the chain is not valid now`, { notAfter: current.validTo });
    const root = anchors.roots.find((r) => issuedBy(current, r));
    if (root !== undefined) {
      if (!within(root, nowMs)) throw bad('the bundle root is not valid now');
      anchored = true;
      break;
    }
    const next = chain[i];
    if (next === undefined) break;
    if (!next.ca) throw bad(`certificate ${i} of the chain is not a CA`);
    if (!issuedBy(current, next)) throw bad(`certificate ${i - 1} of the chain is not signed by certificate ${i}`);
    current = next;
  }
  if (!anchored) throw bad('the chain does not lead to a root of the trust bundle');
  const profile = checkSvidProfile(leaf.raw);
  if (!profile.ok) throw bad(profile.reason);
  if (profile.id.trustDomain !== anchors.trustDomain) {
    throw bad(`SPIFFE ID is outside trust domain ${anchors.trustDomain}`, { spiffeId: profile.id.id });
  }
  return {
    spiffeId: profile.id.id,
    serial: leaf.serialNumber,
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    leaf,
  };
}
