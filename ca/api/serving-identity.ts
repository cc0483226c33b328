import { KeyObject } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../core/telemetry/logger.ts';
import { kubernetesSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { IssuedSvid, X509Authority } from '../issuer/x509-authority.ts';
import { generateP256 } from '../keys/p256-keys.ts';

/** The CA's own SPIFFE ID: clients check it instead of a hostname. */
export function caSpiffeId(trustDomain: string): SpiffeId {
  return kubernetesSpiffeId(trustDomain, 'ztmesh-system', 'ztmesh-ca');
}

export const DEFAULT_CA_DNS_NAMES: readonly string[] = ['ztmesh-ca', 'ztmesh-ca.ztmesh-system.svc'];

/**
 * gRPC server credentials whose certificate can be swapped while serving: TLS 1.3 only, a client
 * certificate requested but not required (a renewing caller presents its SVID; token callers none);
 * the CA verifies a presented certificate itself, against its own chain.
 */
class RotatingServerCredentials extends grpc.ServerCredentials {
  constructor(initial: SecureContextOptions) {
    super({ requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, initial);
  }

  swap(next: SecureContextOptions): void {
    this.updateSecureContextOptions(next);
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}

function contextOptions(svid: IssuedSvid, key: KeyObject): SecureContextOptions {
  return {
    cert: svid.certChainPem,
    key: key.export({ format: 'pem', type: 'pkcs8' }),
    ca: svid.bundlePem,
  };
}

/**
 * The CA's serving certificate: an SVID the CA issues itself (fresh in-memory key, never written),
 * renewed at half its lifetime and swapped into the server's credentials.
 */
export class ServingIdentity {
  readonly spiffeId: SpiffeId;
  readonly credentials: RotatingServerCredentials;
  readonly #authority: X509Authority;
  readonly #dnsNames: readonly string[];
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined = undefined;
  #current: IssuedSvid;

  private constructor(authority: X509Authority, dnsNames: readonly string[], logger: Logger, first: IssuedSvid, key: KeyObject) {
    this.#authority = authority;
    this.#dnsNames = dnsNames;
    this.#logger = logger;
    this.spiffeId = first.spiffeId;
    this.#current = first;
    this.credentials = new RotatingServerCredentials(contextOptions(first, key));
    this.#schedule();
  }

  static async start(options: { authority: X509Authority; dnsNames?: readonly string[]; logger: Logger }): Promise<ServingIdentity> {
    const dnsNames = options.dnsNames ?? DEFAULT_CA_DNS_NAMES;
    const { svid, key } = await ServingIdentity.#issue(options.authority, dnsNames);
    return new ServingIdentity(options.authority, dnsNames, options.logger, svid, key);
  }

  static async #issue(authority: X509Authority, dnsNames: readonly string[]): Promise<{ svid: IssuedSvid; key: KeyObject }> {
    const keys = await generateP256();
    const svid = await authority.issue({ spiffeId: caSpiffeId(authority.trustDomain), publicKey: keys.publicKey, dnsNames });
    return { svid, key: KeyObject.from(keys.privateKey) };
  }

  get current(): IssuedSvid {
    return this.#current;
  }

  /** Issues a new serving certificate now and swaps it in (also called by the renewal timer). */
  async renew(): Promise<void> {
    const { svid, key } = await ServingIdentity.#issue(this.#authority, this.#dnsNames);
    this.#current = svid;
    this.credentials.swap(contextOptions(svid, key));
    this.#logger.info({ event: 'ca.serving_cert_renewed', serial: svid.serial, notAfter: new Date(svid.notAfter).toISOString() }, 'serving certificate renewed');
  }

  #schedule(): void {
    // Renew at half of the usable lifetime counted from now (when the certificate was just issued or
    // renewed), not from notBefore: notBefore is back-dated for clock skew, and counting from it made
    // short-lived serving certificates renew in a tight loop.
    const now = Date.now();
    const delay = Math.max(1_000, Math.min((this.#current.notAfter - now) / 2, 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.renew().then(
        () => this.#schedule(),
        (err: unknown) => {
          this.#logger.error({ err, event: 'ca.serving_cert_renewal_failed' }, 'serving certificate renewal failed; retrying in 30s');
          this.#timer = setTimeout(() => this.#schedule(), 30_000);
          this.#timer.unref();
        },
      );
    }, delay);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}
