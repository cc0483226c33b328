import type { webcrypto } from 'node:crypto';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { importP256PublicKey } from '../keys/p256-keys.ts';
import { x509 } from '../x509-lib.ts';
import { MAX_CSR_BYTES } from './ca-proto.ts';

const SAN_OID = '2.5.29.17';

function invalid(reason: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_CA_INVALID_CSR', `invalid CSR: ${reason}`, { details: { reason }, ...(cause === undefined ? {} : { cause }) });
}

/** A CSR whose structure, key type and self-signature have been checked; what it asks for is not yet judged. */
export interface ParsedCsr {
  readonly publicKey: webcrypto.CryptoKey;
  /** The names the CSR asks for: subject CNs and subjectAltNames. */
  readonly asks: readonly { readonly type: string; readonly value: string }[];
}

/**
 * Parses a PKCS#10 CSR (DER or PEM): at most 64 KiB, parses, ECDSA P-256 key only (the mesh's one
 * key type: cheap handshakes and key generation, as in Linkerd and Istio; nothing else is needed),
 * self-signature verifies. Runs before authentication, so a malformed CSR burns no join token.
 */
export async function parseCsr(csr: Uint8Array): Promise<ParsedCsr> {
  if (csr.length > MAX_CSR_BYTES) {
    throw new MeshError('ZTMESH_CA_CSR_TOO_LARGE', `CSR is ${csr.length} bytes, more than ${MAX_CSR_BYTES}`, { details: { bytes: csr.length } });
  }
  if (csr.length === 0) throw invalid('empty');
  const text = Buffer.from(csr).toString('latin1');
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(text.trimStart().startsWith('-----BEGIN') ? text : Buffer.from(csr));
  } catch (err) {
    throw invalid('not a PKCS#10 certificate request', err);
  }
  let publicKey: webcrypto.CryptoKey;
  try {
    publicKey = await importP256PublicKey(new Uint8Array(request.publicKey.rawData));
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw invalid('unreadable public key', err);
  }
  let verified = false;
  try {
    verified = await request.verify();
  } catch (err) {
    throw invalid('signature cannot be checked', err);
  }
  if (!verified) throw invalid('signature does not verify');
  const asks: { type: string; value: string }[] = request.subjectName.getField('CN').map((cn) => ({ type: 'cn', value: cn }));
  for (const ext of request.extensions) {
    if (ext.type !== SAN_OID) continue;
    if (!(ext instanceof x509.SubjectAlternativeNameExtension)) throw invalid('unreadable subjectAltName extension');
    for (const name of ext.names.items) asks.push({ type: name.type, value: name.value });
  }
  return { publicKey, asks };
}

/**
 * Refuses a CSR that asks for any identity but the authenticated caller's (URI SAN or CN), or for
 * IP/email names, or for a DNS name not in `allowedDnsNames` (the caller's entry of the CA's
 * `--allow-dns` list; empty for every other caller): the issued SPIFFE ID comes from the caller,
 * never from the CSR. Returns the DNS names asked for (all allowed), to be put in the certificate.
 */
export function checkRequestedIdentity(csr: ParsedCsr, caller: SpiffeId, allowedDnsNames: readonly string[] = []): readonly string[] {
  const dnsNames: string[] = [];
  for (const { type, value } of csr.asks) {
    if (type === 'dns') {
      if (!allowedDnsNames.includes(value)) {
        throw new MeshError('ZTMESH_CA_IDENTITY_MISMATCH', `CSR asks for the DNS name ${JSON.stringify(value.slice(0, 200))}, which ${caller} may not have`, {
          details: { requested: `dns:${value.slice(0, 200)}` },
        });
      }
      if (!dnsNames.includes(value)) dnsNames.push(value);
      continue;
    }
    if (type !== 'url' && type !== 'cn') {
      throw new MeshError('ZTMESH_CA_IDENTITY_MISMATCH', `CSR asks for a ${type} name; workload SVIDs carry only their SPIFFE ID`, {
        details: { requested: `${type}:${value.slice(0, 200)}` },
      });
    }
    if (value !== caller) {
      throw new MeshError('ZTMESH_CA_IDENTITY_MISMATCH', `CSR asks for ${JSON.stringify(value.slice(0, 200))}, but the caller is ${caller}`, {
        details: { requested: value.slice(0, 200) },
      });
    }
  }
  return dnsNames;
}

/** Both checks at once: parse, then judge what it asks for against `caller`; returns the public key. */
export async function checkCsr(csr: Uint8Array, caller: SpiffeId): Promise<webcrypto.CryptoKey> {
  const parsed = await parseCsr(csr);
  checkRequestedIdentity(parsed, caller);
  return parsed.publicKey;
}
