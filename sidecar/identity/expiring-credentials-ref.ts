import { CredentialsRef } from '../tls/credentials.ts';
import type { Credentials } from '../tls/credentials.ts';

/**
 * A CredentialsRef that never hands out an expired SVID: once `notAfter` has passed, `current` is
 * undefined (no credentials: new connections are refused and /ready fails) until a fresh SVID is
 * swapped in. Expiry is checked on read, so no timer can be late.
 */
export class ExpiringCredentialsRef extends CredentialsRef {
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    super();
    this.#now = now;
  }

  override get current(): Credentials | undefined {
    const c = super.current;
    return c !== undefined && c.notAfter > this.#now() ? c : undefined;
  }

  /** The held SVID even when expired (for renewal decisions and /debug/identity). */
  get latest(): Credentials | undefined {
    return super.current;
  }
}
