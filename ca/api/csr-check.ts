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

/**
 * Checks a PKCS#10 CSR (DER or PEM) for the authenticated `caller` and returns its public key:
 * at most 64 KiB, parses, self-signature verifies, ECDSA P-256 key only (the mesh's one key type:
 * cheap handshakes and key generation, as in Linkerd and Istio; nothing else is needed), and it
 * asks for no identity but the caller's (URI SAN or CN), nor for DNS/IP/email names.
 */
export async function checkCsr(csr: Uint8Array, caller: SpiffeId): Promise<webcrypto.CryptoKey> {
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
  let key: webcrypto.CryptoKey;
  try {
    key = await importP256PublicKey(new Uint8Array(request.publicKey.rawData));
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
  const asked: string[] = [];
  for (const cn of request.subjectName.getField('CN')) asked.push(cn);
  const names = request.extensions
    .filter((ext) => ext.type === SAN_OID)
    .flatMap((ext) => {
      if (!(ext instanceof x509.SubjectAlternativeNameExtension)) throw invalid('unreadable subjectAltName extension');
      return ext.names.items;
    });
  for (const name of names) {
    if (name.type !== 'url') {
      throw new MeshError('ZTMESH_CA_IDENTITY_MISMATCH', `CSR asks for a ${name.type} name; workload SVIDs carry only their SPIFFE ID`, {
        details: { requested: `${name.type}:${name.value}` },
      });
    }
    asked.push(name.value);
  }
  const other = asked.find((id) => id !== caller);
  if (other !== undefined) {
    throw new MeshError('ZTMESH_CA_IDENTITY_MISMATCH', `CSR asks for ${JSON.stringify(other.slice(0, 200))}, but the caller is ${caller}`, {
      details: { requested: other.slice(0, 200) },
    });
  }
  return key;
}
