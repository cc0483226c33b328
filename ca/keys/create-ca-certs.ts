import type { webcrypto } from 'node:crypto';
import { x509 } from '../x509-lib.ts';
import { signCertificate } from '../sign/sign-certificate.ts';
import { caTemplate, INTERMEDIATE_TTL_MS, ROOT_TTL_MS } from '../template/ca-template.ts';
import { generateP256 } from './p256-keys.ts';

export interface CaCertAndKey {
  readonly certPem: string;
  readonly certificate: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

/** A self-signed ECDSA P-256 root for the trust domain. */
export async function createRoot(trustDomain: string, nowMs: number, ttlMs = ROOT_TTL_MS): Promise<CaCertAndKey> {
  const keys = await generateP256();
  const template = await caTemplate({ trustDomain, commonName: `ztmesh root ${trustDomain}`, publicKey: keys.publicKey, nowMs, ttlMs });
  const certificate = await signCertificate(template, keys.privateKey);
  return { certPem: certificate.toString('pem') + '\n', certificate, keys };
}

/** An ECDSA P-256 intermediate signed by `issuer` (ours or a plugged-in root), capped by the issuer's notAfter. */
export async function createIntermediate(
  trustDomain: string,
  issuer: { certificate: x509.X509Certificate; signingKey: webcrypto.CryptoKey },
  nowMs: number,
  ttlMs = INTERMEDIATE_TTL_MS,
): Promise<CaCertAndKey> {
  const keys = await generateP256();
  const template = await caTemplate({
    trustDomain,
    commonName: `ztmesh intermediate ${trustDomain}`,
    publicKey: keys.publicKey,
    nowMs,
    ttlMs,
    issuer: issuer.certificate,
    issuerNotAfterMs: issuer.certificate.notAfter.getTime(),
  });
  const certificate = await signCertificate(template, issuer.signingKey, issuer.certificate);
  return { certPem: certificate.toString('pem') + '\n', certificate, keys };
}
