import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { parseSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { generateP256 } from '../keys/p256-keys.ts';
import { x509 } from '../x509-lib.ts';
import { checkCsr } from './csr-check.ts';

const CALLER = parseSpiffeId('spiffe://csr.test/ns/web/sa/frontend').id;
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function csr(options: { name?: string; names?: x509.JsonGeneralName[]; keys?: webcrypto.CryptoKeyPair; signingAlgorithm?: { name: string; hash: string } } = {}): Promise<Uint8Array> {
  const keys = options.keys ?? (await generateP256());
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(options.name ? { name: options.name } : {}),
    keys,
    signingAlgorithm: options.signingAlgorithm ?? ECDSA,
    extensions: options.names ? [new x509.SubjectAlternativeNameExtension(options.names)] : [],
  });
  return new Uint8Array(request.rawData);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('CSR checks', () => {
  it('accepts a P-256 CSR with no names, or naming the caller, in DER or PEM', async () => {
    expect((await checkCsr(await csr(), CALLER)).algorithm.name).toBe('ECDSA');
    await checkCsr(await csr({ names: [{ type: 'url', value: CALLER }] }), CALLER);
    const pem = await x509.Pkcs10CertificateRequestGenerator.create({ keys: await generateP256(), signingAlgorithm: ECDSA });
    await checkCsr(Buffer.from(pem.toString('pem')), CALLER);
  });

  it('refuses a CSR over 64 KiB', async () => {
    expect(await codeOf(checkCsr(new Uint8Array(64 * 1024 + 1), CALLER))).toBe('ZTMESH_CA_CSR_TOO_LARGE');
  });

  it('refuses garbage, empty and truncated CSRs', async () => {
    expect(await codeOf(checkCsr(new Uint8Array(0), CALLER))).toBe('ZTMESH_CA_INVALID_CSR');
    expect(await codeOf(checkCsr(Buffer.from('hello'), CALLER))).toBe('ZTMESH_CA_INVALID_CSR');
    const good = await csr();
    expect(await codeOf(checkCsr(good.subarray(0, good.length - 10), CALLER))).toBe('ZTMESH_CA_INVALID_CSR');
    expect(await codeOf(checkCsr(Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), CALLER))).toBe('ZTMESH_CA_INVALID_CSR');
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const good = await csr();
    const bad = Buffer.from(good);
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x01; // inside the signature's last integer
    expect(await codeOf(checkCsr(bad, CALLER))).toBe('ZTMESH_CA_INVALID_CSR');
  });

  it('refuses keys other than ECDSA P-256', async () => {
    const p384 = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    expect(await codeOf(checkCsr(await csr({ keys: p384, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' } }), CALLER))).toBe('ZTMESH_CA_UNSUPPORTED_KEY');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaKeys = {
      publicKey: rsa.publicKey.toCryptoKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']),
      privateKey: rsa.privateKey.toCryptoKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']),
    } as webcrypto.CryptoKeyPair;
    expect(await codeOf(checkCsr(await csr({ keys: rsaKeys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } }), CALLER))).toBe('ZTMESH_CA_UNSUPPORTED_KEY');
  });

  it('refuses a CSR asking for another identity by URI SAN, CN, or DNS name', async () => {
    expect(await codeOf(checkCsr(await csr({ names: [{ type: 'url', value: 'spiffe://csr.test/ns/kube-system/sa/admin' }] }), CALLER))).toBe('ZTMESH_CA_IDENTITY_MISMATCH');
    expect(await codeOf(checkCsr(await csr({ names: [{ type: 'url', value: CALLER }, { type: 'url', value: 'spiffe://csr.test/other' }] }), CALLER))).toBe('ZTMESH_CA_IDENTITY_MISMATCH');
    expect(await codeOf(checkCsr(await csr({ name: 'CN=spiffe://csr.test/ns/kube-system/sa/admin' }), CALLER))).toBe('ZTMESH_CA_IDENTITY_MISMATCH');
    expect(await codeOf(checkCsr(await csr({ names: [{ type: 'dns', value: 'bank.example' }] }), CALLER))).toBe('ZTMESH_CA_IDENTITY_MISMATCH');
  });
});
