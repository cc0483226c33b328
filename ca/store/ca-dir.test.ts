import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { keyRing, sealKeyFromBase64 } from '../../core/seal/seal-key.ts';
import { ttlPolicyFrom } from '../issuer/ttl-policy.ts';
import { X509Authority } from '../issuer/x509-authority.ts';
import { createIntermediate, createRoot } from '../keys/create-ca-certs.ts';
import { exportPkcs8Pem, generateP256 } from '../keys/p256-keys.ts';
import { CA_FILES, initCaDir, loadCaDir } from './ca-dir.ts';

const TD = 'dir.test';
const newRing = () => keyRing([sealKeyFromBase64(randomBytes(32).toString('base64'), 'test')]);
const tempDir = () => join(mkdtempSync(join(tmpdir(), 'ztmesh-ca-dir-')), 'ca');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

async function issueFrom(dir: string, ring: ReturnType<typeof newRing>): Promise<string> {
  const { material } = await loadCaDir(dir, ring);
  const authority = await X509Authority.create(material, { ttlPolicy: ttlPolicyFrom({}) });
  const keys = await generateP256();
  return (await authority.issue({ spiffeId: `spiffe://${TD}/w`, publicKey: keys.publicKey })).spiffeId;
}

describe('CA directory', () => {
  it('init writes sealed keys only, and the CA loads and issues', async () => {
    const dir = tempDir();
    const ring = newRing();
    const { meta } = await initCaDir({ dir, trustDomain: TD, ring, nowMs: Date.now() });
    expect(meta.mode).toBe('generated');
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name)).includes('PRIVATE KEY'), name).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([CA_FILES.bundle, CA_FILES.meta, CA_FILES.intermediateChain, CA_FILES.intermediateKey, CA_FILES.rootKey].sort());
    expect(await issueFrom(dir, ring)).toBe(`spiffe://${TD}/w`);
  });

  it('refuses to overwrite an existing CA', async () => {
    const dir = tempDir();
    const ring = newRing();
    await initCaDir({ dir, trustDomain: TD, ring, nowMs: Date.now() });
    const before = readFileSync(join(dir, CA_FILES.intermediateKey));
    expect(await codeOf(initCaDir({ dir, trustDomain: TD, ring, nowMs: Date.now() }))).toBe('ZTMESH_CA_ALREADY_EXISTS');
    expect(readFileSync(join(dir, CA_FILES.intermediateKey)).equals(before)).toBe(true);
  });

  it('loading with a wrong seal key fails with ZTMESH_SEAL_WRONG_KEY; an empty dir is NOT_INITIALIZED', async () => {
    const dir = tempDir();
    await initCaDir({ dir, trustDomain: TD, ring: newRing(), nowMs: Date.now() });
    expect(await codeOf(loadCaDir(dir, newRing()))).toBe('ZTMESH_SEAL_WRONG_KEY');
    expect(await codeOf(loadCaDir(tempDir(), newRing()))).toBe('ZTMESH_CA_NOT_INITIALIZED');
  });

  it('refuses an invalid trust domain', async () => {
    expect(await codeOf(initCaDir({ dir: tempDir(), trustDomain: 'Bad.Domain', ring: newRing(), nowMs: Date.now() }))).toBe('ZTMESH_SPIFFE_INVALID_ID');
  });

  it('plugs in a platform root: signs a new intermediate with it, and does not store the root key', async () => {
    const root = await createRoot('platform.pki', Date.now());
    const dir = tempDir();
    const ring = newRing();
    const { meta, bundlePem } = await initCaDir({ dir, trustDomain: TD, ring, nowMs: Date.now(), root: { certPem: root.certPem, keyPem: exportPkcs8Pem(root.keys.privateKey) } });
    expect(meta.mode).toBe('root');
    expect(new X509Certificate(bundlePem).fingerprint256).toBe(new X509Certificate(root.certPem).fingerprint256);
    expect(readdirSync(dir)).not.toContain(CA_FILES.rootKey);
    expect(await issueFrom(dir, ring)).toBe(`spiffe://${TD}/w`);
  });

  it('plugs in a platform intermediate (file: intermediate then root)', async () => {
    const now = Date.now();
    const root = await createRoot('platform.pki', now);
    const intermediate = await createIntermediate('platform.pki', { certificate: root.certificate, signingKey: root.keys.privateKey }, now);
    const dir = tempDir();
    const ring = newRing();
    const { meta } = await initCaDir({
      dir, trustDomain: TD, ring, nowMs: now,
      intermediate: { certPem: intermediate.certPem + root.certPem, keyPem: exportPkcs8Pem(intermediate.keys.privateKey) },
    });
    expect(meta.mode).toBe('intermediate');
    expect(await issueFrom(dir, ring)).toBe(`spiffe://${TD}/w`);
  });

  it('refuses plugged-in material that is not usable', async () => {
    const now = Date.now();
    const root = await createRoot('platform.pki', now);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(await codeOf(initCaDir({ dir: tempDir(), trustDomain: TD, ring: newRing(), nowMs: now, root: { certPem: root.certPem, keyPem: rsa } }))).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
    expect(await codeOf(initCaDir({ dir: tempDir(), trustDomain: TD, ring: newRing(), nowMs: now, root: { certPem: 'nope', keyPem: rsa } }))).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
    // An intermediate file without its root cannot anchor a bundle.
    const intermediate = await createIntermediate('platform.pki', { certificate: root.certificate, signingKey: root.keys.privateKey }, now);
    const dir = tempDir();
    expect(await codeOf(initCaDir({ dir, trustDomain: TD, ring: newRing(), nowMs: now, intermediate: { certPem: intermediate.certPem, keyPem: exportPkcs8Pem(intermediate.keys.privateKey) } }))).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
    // A key that is not the intermediate's: refused before anything is written.
    const stranger = exportPkcs8Pem((await generateP256()).privateKey);
    expect(await codeOf(initCaDir({ dir, trustDomain: TD, ring: newRing(), nowMs: now, intermediate: { certPem: intermediate.certPem + root.certPem, keyPem: stranger } }))).toBe('ZTMESH_CA_BAD_CA_MATERIAL');
    expect(existsSync(dir)).toBe(false);
  });
});
