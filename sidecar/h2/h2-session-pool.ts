import { connect, type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** One HTTP/2 client session and the error that ended it, if any (e.g. a wrong peer identity). */
export class PooledH2Session {
  readonly session: ClientHttp2Session;
  error: Error | undefined = undefined;
  usable = true;
  /** The transport is up and the peer's SETTINGS arrived (a failure before this is a connect failure). */
  connected = false;
  /** The last stream id the peer's GOAWAY said it processes (-1: none received); later streams were refused. */
  goawayLastStreamId = -1;

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
    session.on('connect', () => {
      pooled.connected = true;
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      pooled.goawayLastStreamId = lastStreamId;
      // The peer drains (rollout, SIGTERM): open streams finish, new ones go to a new session.
      pooled.usable = false;
      if (this.#current === pooled) this.#current = undefined;
      if (!session.closed) session.close();
    });
    session.on('close', () => {
      pooled.usable = false;
      if (this.#current === pooled) this.#current = undefined;
    });
    session.unref();
    this.#current = pooled;
    return pooled;
  }

  /** The destination left: nothing new goes here; the session closes (GOAWAY) once its open streams finish. */
  retire(): void {
    this.#closed = true;
    const cur = this.#current;
    this.#current = undefined;
    if (cur !== undefined && !cur.session.closed) cur.session.close();
  }

  close(): void {
    this.#closed = true;
    this.#current?.session.destroy();
    this.#current = undefined;
  }
}
