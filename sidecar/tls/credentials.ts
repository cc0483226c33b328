import type { SecureContext } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';

/**
 * One snapshot of this workload's identity: its SVID, the trust bundle, and the TLS contexts built
 * from them once. Read-mostly; swapped whole on rotation; readers always take `CredentialsRef.current`.
 */
export interface Credentials {
  readonly identity: SpiffeId;
  readonly trustDomain: string;
  /** Leaf, then intermediates, as PEM. */
  readonly certChainPem: string;
  readonly leaf: X509Certificate;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly bundlePem: string;
  /** Server side (inbound): TLS 1.3 only, client certificate required, chain checked against the bundle. */
  readonly serverContext: SecureContext;
  /** Client side (outbound): TLS 1.3 only, our SVID presented, server chain checked against the bundle. */
  readonly clientContext: SecureContext;
  /**
   * The PEM material the contexts were built from, for `tls.Server#setSecureContext` (Node cannot
   * install a prebuilt SecureContext as a server's default). Holds the private key: never log it.
   */
  readonly tlsOptions?: { readonly cert: string; readonly key: string; readonly ca: string };
}

type Listener = (next: Credentials) => void;

/** The one reference to the current credentials; swapping notifies listeners (e.g. the TLS server). */
export class CredentialsRef {
  #current: Credentials | undefined = undefined;
  readonly #listeners: Listener[] = [];

  get current(): Credentials | undefined {
    return this.#current;
  }

  swap(next: Credentials): void {
    this.#current = next;
    for (const listener of this.#listeners) listener(next);
  }

  onSwap(listener: Listener): void {
    this.#listeners.push(listener);
  }
}
