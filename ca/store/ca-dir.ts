import type { webcrypto } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseYamlText, validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { readSealedFile, writeFileAtomic, writeSealedFile } from '../../core/seal/sealed-file.ts';
import type { SealKeyRing } from '../../core/seal/seal-key.ts';
import { trustDomainError } from '../../core/spiffe/spiffe-id.ts';
import { type CaMaterial, X509Authority } from '../issuer/x509-authority.ts';
import { DEFAULT_TTL_POLICY } from '../issuer/ttl-policy.ts';
import { splitPemCertificates } from '../issuer/pem.ts';
import { exportPkcs8Pem, importP256PrivateKey } from '../keys/p256-keys.ts';
import { createIntermediate, createRoot } from '../keys/create-ca-certs.ts';
import { x509 } from '../x509-lib.ts';

/** The files of a CA directory. Private keys are only ever written sealed. */
export const CA_FILES = Object.freeze({
  meta: 'ca.json',
  bundle: 'bundle.pem',
  intermediateChain: 'intermediate.pem',
  intermediateKey: 'intermediate-key.sealed',
  rootKey: 'root-key.sealed',
  joinTokens: 'join-tokens.sealed',
});

const metaSchema = z.strictObject({
  version: z.literal(1),
  trustDomain: z.string().refine((td) => trustDomainError(td) === undefined, 'not a valid trust domain'),
  createdAt: z.string(),
  /** generated: ztmesh made root and intermediate; root: a plugged-in root signed our intermediate; intermediate: plugged-in intermediate. */
  mode: z.enum(['generated', 'root', 'intermediate']),
});
export type CaMeta = z.output<typeof metaSchema>;

export interface PluggedIn {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface InitOptions {
  readonly dir: string;
  readonly trustDomain: string;
  readonly ring: SealKeyRing;
  readonly nowMs: number;
  /** A platform root (self-signed CA) that signs our intermediate; its key is used once and not stored. */
  readonly root?: PluggedIn;
  /** A platform intermediate: certificate file holds it, then its chain up to and including the root. */
  readonly intermediate?: PluggedIn;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function bad(message: string): MeshError {
  return new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', message);
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/** Creates a CA in `dir` (made 0700 if absent); refuses if any CA file is already there. Returns the bundle PEM. */
export async function initCaDir(options: InitOptions): Promise<{ bundlePem: string; meta: CaMeta }> {
  const { dir } = options;
  const tdError = trustDomainError(options.trustDomain);
  if (tdError !== undefined) throw new MeshError('ZTMESH_SPIFFE_INVALID_ID', `invalid trust domain: ${tdError}`);
  for (const name of Object.values(CA_FILES)) {
    if (await exists(join(dir, name))) {
      throw new MeshError('ZTMESH_CA_ALREADY_EXISTS', `${dir} already holds a CA (${name}); refusing to overwrite it`, { details: { dir } });
    }
  }
  let bundlePem: string;
  let chainPem: string;
  let intermediateKeyPem: string;
  let rootKeyPem: string | undefined;
  let mode: CaMeta['mode'];
  if (options.intermediate !== undefined) {
    mode = 'intermediate';
    const certs = splitPemCertificates(options.intermediate.certPem, 'intermediate certificate file');
    const parsed = certs.map((pem) => new X509Certificate(pem));
    const roots = certs.filter((_, i) => isSelfSigned(parsed[i]!));
    const chain = certs.filter((_, i) => !isSelfSigned(parsed[i]!));
    if (roots.length === 0) throw bad('the intermediate certificate file must end with the root certificate that anchors it');
    if (chain.length === 0) throw bad('the intermediate certificate file holds no intermediate (only self-signed certificates)');
    bundlePem = roots.join('');
    chainPem = chain.join('');
    intermediateKeyPem = options.intermediate.keyPem;
  } else {
    let root: { certificate: x509.X509Certificate; signingKey: webcrypto.CryptoKey; certPem: string };
    if (options.root !== undefined) {
      mode = 'root';
      const [pem] = splitPemCertificates(options.root.certPem, 'root certificate file');
      const cert = new X509Certificate(pem!);
      if (!cert.ca || !isSelfSigned(cert)) throw bad('the root certificate must be a self-signed CA certificate');
      root = { certificate: new x509.X509Certificate(cert.raw), signingKey: await importP256PrivateKey(options.root.keyPem, 'root key'), certPem: pem! };
    } else {
      mode = 'generated';
      const made = await createRoot(options.trustDomain, options.nowMs);
      root = { certificate: made.certificate, signingKey: made.keys.privateKey, certPem: made.certPem };
      rootKeyPem = exportPkcs8Pem(made.keys.privateKey);
    }
    const intermediate = await createIntermediate(options.trustDomain, root, options.nowMs);
    bundlePem = root.certPem;
    chainPem = intermediate.certPem;
    intermediateKeyPem = exportPkcs8Pem(intermediate.keys.privateKey);
  }
  // Check the whole set (chain to the bundle, key matches) before anything is written.
  await X509Authority.create(
    { trustDomain: options.trustDomain, bundlePem, intermediateChainPem: chainPem, signingKey: await importP256PrivateKey(intermediateKeyPem, 'intermediate key') },
    { ttlPolicy: DEFAULT_TTL_POLICY },
  );
  const meta: CaMeta = { version: 1, trustDomain: options.trustDomain, createdAt: new Date(options.nowMs).toISOString(), mode };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeSealedFile(join(dir, CA_FILES.intermediateKey), intermediateKeyPem, options.ring.primary);
  if (rootKeyPem !== undefined) await writeSealedFile(join(dir, CA_FILES.rootKey), rootKeyPem, options.ring.primary);
  await writeFileAtomic(join(dir, CA_FILES.bundle), bundlePem, 0o644);
  await writeFileAtomic(join(dir, CA_FILES.intermediateChain), chainPem, 0o644);
  // The marker goes last and exclusively: a concurrent init loses here rather than mixing two CAs.
  try {
    await writeFile(join(dir, CA_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw new MeshError('ZTMESH_CA_ALREADY_EXISTS', `${dir} already holds a CA (${CA_FILES.meta})`, { cause: err, details: { dir } });
  }
  return { bundlePem, meta };
}

async function readCaFile(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_CA_NOT_INITIALIZED', `${join(dir, name)} is missing: is ${dir} a CA directory (ztmesh ca init)?`, { cause: err, details: { dir, file: name } });
  }
}

export async function readCaMeta(dir: string): Promise<CaMeta> {
  const file = join(dir, CA_FILES.meta);
  return validateConfig(metaSchema, parseYamlText(await readCaFile(dir, CA_FILES.meta), file), file);
}

export async function readBundle(dir: string): Promise<string> {
  return readCaFile(dir, CA_FILES.bundle);
}

/** Loads the CA's signing material, unsealing the intermediate key with the ring. */
export async function loadCaDir(dir: string, ring: SealKeyRing): Promise<{ meta: CaMeta; material: CaMaterial }> {
  const meta = await readCaMeta(dir);
  const bundlePem = await readCaFile(dir, CA_FILES.bundle);
  const intermediateChainPem = await readCaFile(dir, CA_FILES.intermediateChain);
  await readCaFile(dir, CA_FILES.intermediateKey);
  const keyPem = await readSealedFile(join(dir, CA_FILES.intermediateKey), ring);
  try {
    const signingKey = await importP256PrivateKey(keyPem, join(dir, CA_FILES.intermediateKey));
    return { meta, material: { trustDomain: meta.trustDomain, bundlePem, intermediateChainPem, signingKey } };
  } finally {
    keyPem.fill(0);
  }
}
