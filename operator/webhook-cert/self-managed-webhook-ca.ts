import { KeyObject, X509Certificate, type webcrypto } from 'node:crypto';
import { generateP256 } from '../../ca/keys/p256-keys.ts';
import { SIGNING_ALGORITHM } from '../../ca/sign/sign-certificate.ts';
import { x509 } from '../../ca/x509-lib.ts';
import type { WebhookCredentials } from '../webhook/webhook-server.ts';
import type { WebhookServingSource } from './webhook-serving-source.ts';

export interface WebhookCaOptions {
  /** The names the kube-apiserver dials, e.g. `ztmesh-operator.ztmesh-system.svc`. */
  readonly dnsNames: readonly string[];
  /** Lifetime of the webhook CA (default 1 year); the caBundle only changes when it is replaced. */
  readonly caTtlMs?: number;
  /** Lifetime of a serving certificate (default 24 h); renewed at two thirds of it. */
  readonly certTtlMs?: number;
  readonly now?: () => number;
}

const DAY = 24 * 3600_000;
const BACKDATE_MS = 60_000;

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * The admission webhook's own small CA, held in memory by this operator process (the fallback
 * while the mesh CA cannot issue DNS SANs): a P-256 root whose certificate is the
 * MutatingWebhookConfiguration's caBundle, and a short-lived serving certificate for the
 * Service's DNS names, re-issued by `current()` once two thirds of its lifetime have passed.
 * The private keys never leave the process.
 */
export class SelfManagedWebhookCa implements WebhookServingSource {
  readonly caBundlePem: string;
  readonly #caKeys: webcrypto.CryptoKeyPair;
  readonly #caCert: x509.X509Certificate;
  readonly #o: Required<WebhookCaOptions>;
  #serving: { credentials: WebhookCredentials; renewAt: number; notAfter: number } | undefined;
  #pending: Promise<void> | undefined;

  private constructor(caKeys: webcrypto.CryptoKeyPair, caCert: x509.X509Certificate, o: Required<WebhookCaOptions>) {
    this.#caKeys = caKeys;
    this.#caCert = caCert;
    this.caBundlePem = caCert.toString('pem') + '\n';
    this.#o = o;
    this.#serving = undefined;
    this.#pending = undefined;
  }

  static async create(options: WebhookCaOptions): Promise<SelfManagedWebhookCa> {
    if (options.dnsNames.length === 0) throw new TypeError('the webhook certificate needs at least one DNS name');
    const o: Required<WebhookCaOptions> = { caTtlMs: 365 * DAY, certTtlMs: DAY, now: Date.now, ...options };
    const keys = await generateP256(true);
    const now = o.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=ztmesh admission webhook CA',
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + o.caTtlMs),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const ca = new SelfManagedWebhookCa(keys, cert, o);
    await ca.renew();
    return ca;
  }

  /** The current serving certificate and key; starts a renewal in the background when one is due. */
  current(): WebhookCredentials {
    const serving = this.#serving!;
    if (this.#o.now() >= serving.renewAt && this.#pending === undefined) {
      this.#pending = this.renew().finally(() => {
        this.#pending = undefined;
      });
      // A failed renewal keeps the current certificate; the next call retries.
      this.#pending.catch(() => undefined);
    }
    return serving.credentials;
  }

  /** The PEM bundle the kube-apiserver must trust (the MutatingWebhookConfiguration's caBundle). */
  caBundle(): string {
    return this.caBundlePem;
  }

  /** notAfter of the current serving certificate (ms since the epoch). */
  get servingNotAfter(): number {
    return this.#serving!.notAfter;
  }

  /** Issues a fresh serving certificate (new key) and makes it current. */
  async renew(): Promise<void> {
    const now = this.#o.now();
    const keys = await generateP256(true);
    const notAfter = Math.min(now + this.#o.certTtlMs, this.#caCert.notAfter.getTime());
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${this.#o.dnsNames[0]!}`,
      issuer: this.#caCert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: this.#caKeys.privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(this.#o.dnsNames.map((value) => ({ type: 'dns' as const, value })), false),
        await x509.AuthorityKeyIdentifierExtension.create(this.#caCert, false),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    // Validate what was signed before serving it.
    const issued = new X509Certificate(certPem);
    if (!issued.verify(new X509Certificate(this.caBundlePem).publicKey)) throw new Error('the webhook serving certificate does not verify against its CA');
    const lifetime = notAfter - now;
    this.#serving = { credentials: { certPem, keyPem: pkcs8Pem(keys.privateKey) }, renewAt: now + Math.floor((lifetime * 2) / 3), notAfter };
  }
}
