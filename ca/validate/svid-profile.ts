import { x509 } from '../x509-lib.ts';
import { parseSpiffeId, type ParsedSpiffeId } from '../../core/spiffe/spiffe-id.ts';

/**
 * Checks a leaf against the X.509-SVID profile; returns its SPIFFE ID, or the reason it is not an
 * SVID. Reads extensions with @peculiar/x509 (criticality flags included), from the DER bytes.
 */
export function checkSvidProfile(der: Uint8Array): { ok: true; id: ParsedSpiffeId } | { ok: false; reason: string } {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch {
    return { ok: false, reason: 'certificate does not parse' };
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (bc === null || !bc.critical || bc.ca) return { ok: false, reason: 'basicConstraints must be present, critical, CA:FALSE' };
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (ku === null || !ku.critical) return { ok: false, reason: 'keyUsage must be present and critical' };
  if ((ku.usages & x509.KeyUsageFlags.digitalSignature) === 0) return { ok: false, reason: 'keyUsage must include digitalSignature' };
  if ((ku.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) !== 0) {
    return { ok: false, reason: 'keyUsage of a leaf must not include keyCertSign or cRLSign' };
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const usages = new Set((eku?.usages ?? []).map(String));
  if (!usages.has(x509.ExtendedKeyUsage.serverAuth) || !usages.has(x509.ExtendedKeyUsage.clientAuth)) {
    return { ok: false, reason: 'extendedKeyUsage must include serverAuth and clientAuth' };
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = (san?.names.items ?? []).filter((n) => n.type === 'url');
  if (uris.length !== 1) return { ok: false, reason: `exactly one URI SAN required, found ${uris.length}` };
  try {
    return { ok: true, id: parseSpiffeId(uris[0]!.value) };
  } catch {
    return { ok: false, reason: 'the URI SAN is not a valid SPIFFE ID' };
  }
}
