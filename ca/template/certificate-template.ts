import type { webcrypto } from 'node:crypto';
import type { x509 } from '../x509-lib.ts';

/** Everything a certificate says except its issuer and signature: built first, then signed, then checked. */
export interface CertificateTemplate {
  readonly serialNumber: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: webcrypto.CryptoKey;
  readonly extensions: readonly x509.Extension[];
}

/** How far back notBefore is dated, for clock skew between the CA and relying parties (the profile allows <= 60 s). */
export const BACKDATE_MS = 30_000;

/** X.509 times have one-second precision: round down, so what the tests compute is what the certificate says. */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
