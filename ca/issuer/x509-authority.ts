import { X509Certificate, webcrypto } from 'node:crypto';
import { x509 } from '../x509-lib.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { signCertificate, SIGNING_ALGORITHM } from '../sign/sign-certificate.ts';
import { svidTemplate } from '../template/svid-template.ts';
import { verifySvid } from '../validate/svid-validator.ts';
import { splitPemCertificates } from './pem.ts';
import { checkTtlPolicy, resolveTtl, type TtlPolicy } from './ttl-policy.ts';

export type Clock = () => number;

/** The CA's signing material, as loaded from its directory or made in memory. */
export interface CaMaterial {
  readonly trustDomain: string;
  /** The trust bundle: self-signed root certificate(s), PEM. */
  readonly bundlePem: string;
  /** The signing intermediate first, then any CA between it and the root (the root excluded), PEM. */
  readonly intermediateChainPem: string;
  readonly signingKey: webcrypto.CryptoKey;
}

export interface IssueRequest {
  readonly spiffeId: SpiffeId | string;
  readonly publicKey: webcrypto.CryptoKey;
  /** A duration (`30m`) or milliseconds; the policy's default when absent. */
  readonly ttl?: string | number | undefined;
  readonly dnsNames?: readonly string[];
}

export interface IssuedSvid {
  readonly spiffeId: SpiffeId;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Leaf, then the intermediate chain, PEM. */
  readonly certChainPem: string;
  readonly bundlePem: string;
  readonly leaf: X509Certificate;
}

function badMaterial(message: string, cause?: unknown): MeshError {
  return new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', message, cause === undefined ? undefined : { cause });
}

/**
 * Issues X.509-SVIDs, SPIRE-style: a params object per issuance → template → sign → verify what was
 * signed (chain to the bundle, SVID profile, requested identity and lifetime) before returning it.
 */
export class X509Authority {
  readonly trustDomain: string;
  readonly bundlePem: string;
  readonly intermediateChainPem: string;
  readonly ttlPolicy: TtlPolicy;
  readonly #roots: readonly X509Certificate[];
  /** The intermediate chain, parsed once (signing intermediate first). */
  readonly #chain: readonly X509Certificate[];
  readonly #intermediate: x509.X509Certificate;
  readonly #intermediateNotAfter: number;
  readonly #signingKey: webcrypto.CryptoKey;
  readonly #clock: Clock;

  private constructor(material: CaMaterial, roots: X509Certificate[], chain: X509Certificate[], ttlPolicy: TtlPolicy, clock: Clock) {
    this.trustDomain = material.trustDomain;
    this.bundlePem = material.bundlePem;
    this.intermediateChainPem = material.intermediateChainPem;
    this.ttlPolicy = ttlPolicy;
    this.#roots = roots;
    this.#chain = chain;
    this.#intermediate = new x509.X509Certificate(chain[0]!.raw);
    this.#intermediateNotAfter = this.#intermediate.notAfter.getTime();
    this.#signingKey = material.signingKey;
    this.#clock = clock;
  }

  /** Checks the material (intermediate is a CA, chains to the bundle, the key is its key) and builds the authority. */
  static async create(material: CaMaterial, options: { ttlPolicy: TtlPolicy; clock?: Clock }): Promise<X509Authority> {
    checkTtlPolicy(options.ttlPolicy);
    const roots = splitPemCertificates(material.bundlePem, 'trust bundle').map((pem) => new X509Certificate(pem));
    const chain = splitPemCertificates(material.intermediateChainPem, 'intermediate chain').map((pem) => new X509Certificate(pem));
    if (roots.length === 0) throw badMaterial('the trust bundle holds no certificate');
    const top = chain[0];
    if (top === undefined) throw badMaterial('the intermediate chain holds no certificate');
    for (const [i, cert] of chain.entries()) {
      if (!cert.ca) throw badMaterial(`intermediate chain certificate ${i} is not a CA certificate`);
      const issuer = chain[i + 1] ?? roots.find((r) => cert.checkIssued(r));
      if (issuer === undefined || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
        throw badMaterial(`intermediate chain certificate ${i} is not signed by the next certificate or a bundle root`);
      }
    }
    const probe = Buffer.from('ztmesh-ca-key-check');
    const signature = await webcrypto.subtle.sign(SIGNING_ALGORITHM, material.signingKey, probe);
    const publicKey = await webcrypto.subtle.importKey('spki', top.publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']).catch((err: unknown) => {
      throw badMaterial('the intermediate certificate does not hold an ECDSA P-256 key', err);
    });
    if (!(await webcrypto.subtle.verify(SIGNING_ALGORITHM, publicKey, signature, probe))) {
      throw badMaterial('the intermediate key does not match the intermediate certificate');
    }
    return new X509Authority(material, roots, chain, options.ttlPolicy, options.clock ?? Date.now);
  }

  get intermediateNotAfter(): number {
    return this.#intermediateNotAfter;
  }

  async issue(request: IssueRequest): Promise<IssuedSvid> {
    const id = parseSpiffeId(request.spiffeId);
    if (id.trustDomain !== this.trustDomain) {
      throw new MeshError('ZTMESH_CA_FOREIGN_TRUST_DOMAIN', `${id.id} is outside trust domain ${this.trustDomain}`, { details: { spiffeId: id.id } });
    }
    const ttlMs = resolveTtl(this.ttlPolicy, request.ttl);
    const now = this.#clock();
    const template = await svidTemplate(
      { spiffeId: id.id, publicKey: request.publicKey, ttlMs, ...(request.dnsNames ? { dnsNames: request.dnsNames } : {}) },
      { certificate: this.#intermediate, notAfterMs: this.#intermediateNotAfter },
      now,
    );
    const signed = await signCertificate(template, this.#signingKey, this.#intermediate);
    const leaf = new X509Certificate(Buffer.from(signed.rawData));
    const certChainPem = `${signed.toString('pem')}\n${this.intermediateChainPem.trim()}\n`;
    try {
      const verified = verifySvid([leaf, ...this.#chain], { trustDomain: this.trustDomain, roots: this.#roots }, now);
      if (verified.spiffeId !== id.id) throw new Error('SPIFFE ID differs from the one requested');
      if (verified.notAfter !== template.notAfter.getTime()) throw new Error('notAfter differs from the template');
      if (verified.notBefore < now - 60_000) throw new Error('notBefore back-dated more than 60 s');
    } catch (err) {
      throw new MeshError('ZTMESH_CA_SELF_CHECK_FAILED', `the certificate just signed for ${id.id} failed validation`, { cause: err });
    }
    return {
      spiffeId: id.id,
      serial: leaf.serialNumber,
      notBefore: template.notBefore.getTime(),
      notAfter: template.notAfter.getTime(),
      certChainPem,
      bundlePem: this.bundlePem,
      leaf,
    };
  }

  /** Verifies a presented SVID chain (e.g. a renewing caller's TLS client certificate) against this CA's bundle, now. */
  verify(chain: readonly X509Certificate[]): ReturnType<typeof verifySvid> {
    return verifySvid(chain, { trustDomain: this.trustDomain, roots: this.#roots }, this.#clock());
  }

  /** Verifies a leaf presented alone (TLS peers send their chain, but servers see only the leaf) with this CA's own chain. */
  verifyLeaf(leaf: X509Certificate): ReturnType<typeof verifySvid> {
    return this.verify([leaf, ...this.#chain]);
  }
}
