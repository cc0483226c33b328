import type { webcrypto } from 'node:crypto';
import { x509 } from '../x509-lib.ts';
import { BACKDATE_MS, type CertificateTemplate, wholeSeconds } from './certificate-template.ts';
import { randomSerialHex } from './serial-number.ts';

export const ROOT_TTL_MS = 10 * 365 * 86_400_000;
export const INTERMEDIATE_TTL_MS = 365 * 86_400_000;

/**
 * A CA certificate template: CA:TRUE (critical, path length 1 for a root, 0 for an intermediate),
 * keyCertSign + cRLSign (critical), and the trust domain's own SPIFFE ID as its URI SAN, so a client
 * holding only the bundle knows the trust domain.
 */
export async function caTemplate(options: {
  readonly trustDomain: string;
  readonly commonName: string;
  readonly publicKey: webcrypto.CryptoKey;
  readonly nowMs: number;
  readonly ttlMs: number;
  /** The issuer's certificate; absent for a self-signed root. */
  readonly issuer?: x509.X509Certificate;
  /** Capped to the issuer's notAfter. */
  readonly issuerNotAfterMs?: number;
}): Promise<CertificateTemplate> {
  const isRoot = options.issuer === undefined;
  const notAfterMs = Math.min(options.nowMs + options.ttlMs, options.issuerNotAfterMs ?? Number.POSITIVE_INFINITY);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, isRoot ? 1 : 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${options.trustDomain}` }], false),
    await x509.SubjectKeyIdentifierExtension.create(options.publicKey),
  ];
  if (options.issuer !== undefined) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.issuer));
  return {
    serialNumber: randomSerialHex(),
    subject: `O=ztmesh, CN=${options.commonName}`,
    notBefore: wholeSeconds(options.nowMs - BACKDATE_MS),
    notAfter: wholeSeconds(notAfterMs),
    publicKey: options.publicKey,
    extensions,
  };
}
