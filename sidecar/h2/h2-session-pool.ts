import { connect, type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** One HTTP/2 client session and the error that ended it, if any (e.g. a wrong peer identity). */
export class PooledH2Session {
  readonly session: ClientHttp2Session;
  error: Error | undefined = undefined;
  usable = true;

  constructor(session: ClientHttp2Session) {
    this.session = session;
  }
}

/**
 * One long-lived, multiplexed HTTP/2 session per destination (a peer sidecar over mTLS, or the
 * local app over h2c), replaced when it closes, errors or receives GOAWAY.
 */
export class H2SessionPool {
  readonly name: string;
  readonly #authority: string;
  readonly #createConnection: (() => Socket) | undefined;
  #current: PooledH2Session | undefined = undefined;
  #closed = false;

  /** `createConnection` opens the transport (the mTLS connector); without it, plaintext h2c to `authority`. */
  constructor(name: string, authority: string, createConnection?: () => Socket) {
    this.name = name;
    this.#authority = authority;
    this.#createConnection = createConnection;
  }

  /** The current session, or a new one. Throws when no connection can be attempted. */
  get(): PooledH2Session {
    const cur = this.#current;
    if (cur !== undefined && cur.usable && !cur.session.closed && !cur.session.destroyed) return cur;
    if (this.#closed) throw new Error('pool closed');
    const create = this.#createConnection;
    const session = create === undefined ? connect(this.#authority) : connect(this.#authority, { createConnection: () => create() });
    const pooled = new PooledH2Session(session);
    session.on('error', (err: Error) => {
      pooled.error = err;
      pooled.usable = false;
    });
    session.on('goaway', () => {
      pooled.usable = false;
    });
    session.on('close', () => {
      pooled.usable = false;
      if (this.#current === pooled) this.#current = undefined;
    });
    session.unref();
    this.#current = pooled;
    return pooled;
  }

  close(): void {
    this.#closed = true;
    this.#current?.session.destroy();
    this.#current = undefined;
  }
}
