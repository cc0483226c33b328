import type { webcrypto } from 'node:crypto';
import { x509 } from '../x509-lib.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { BACKDATE_MS, type CertificateTemplate, wholeSeconds } from './certificate-template.ts';
import { randomSerialHex } from './serial-number.ts';

/** One issuance's parameters: who, which key, how long. */
export interface SvidParams {
  readonly spiffeId: SpiffeId;
  readonly publicKey: webcrypto.CryptoKey;
  readonly ttlMs: number;
  /** Extra DNS SANs (only the CA's own serving certificate uses them). */
  readonly dnsNames?: readonly string[];
}

/** What the template needs to know of the issuer. */
export interface IssuerFacts {
  readonly certificate: x509.X509Certificate;
  readonly notAfterMs: number;
}

/**
 * The X.509-SVID template (SPIFFE X509-SVID.md): exactly one URI SAN, CA:FALSE (critical),
 * keyUsage digitalSignature (critical), EKU serverAuth + clientAuth, random serial, notBefore
 * back-dated, notAfter = now + TTL capped by the issuer's own notAfter.
 */
export async function svidTemplate(params: SvidParams, issuer: IssuerFacts, nowMs: number): Promise<CertificateTemplate> {
  if (issuer.notAfterMs <= nowMs) {
    throw new MeshError('ZTMESH_CA_ISSUER_EXPIRED', `the intermediate expired at ${new Date(issuer.notAfterMs).toISOString()}`, {
      details: { issuerNotAfter: issuer.notAfterMs },
    });
  }
  const notAfterMs = Math.min(nowMs + params.ttlMs, issuer.notAfterMs);
  const names: x509.JsonGeneralName[] = [{ type: 'url', value: params.spiffeId }];
  for (const dns of params.dnsNames ?? []) names.push({ type: 'dns', value: dns });
  return {
    serialNumber: randomSerialHex(),
    subject: 'O=ztmesh',
    notBefore: wholeSeconds(nowMs - BACKDATE_MS),
    notAfter: wholeSeconds(notAfterMs),
    publicKey: params.publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(params.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  };
}
