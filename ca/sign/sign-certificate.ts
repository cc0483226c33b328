import type { webcrypto } from 'node:crypto';
import { x509 } from '../x509-lib.ts';
import type { CertificateTemplate } from '../template/certificate-template.ts';

export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * Signs a template with the issuer's key (ECDSA P-256 / SHA-256). `issuer` is absent for a
 * self-signed root, whose subject is then also its issuer.
 */
export async function signCertificate(
  template: CertificateTemplate,
  signingKey: webcrypto.CryptoKey,
  issuer?: x509.X509Certificate,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: template.serialNumber,
    subject: template.subject,
    issuer: issuer === undefined ? template.subject : issuer.subjectName,
    notBefore: template.notBefore,
    notAfter: template.notAfter,
    publicKey: template.publicKey,
    signingKey,
    extensions: [...template.extensions],
    signingAlgorithm: SIGNING_ALGORITHM,
  });
}
