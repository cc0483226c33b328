import type { Socket } from 'node:net';
import type { PeerInfo } from '../tls/peer-info.ts';

/** A client connection of any protocol, as the server tracks it. */
export interface ClientConnection {
  readonly socket: Socket;
  readonly peer: PeerInfo | undefined;
  /** Finish the current exchange, then close (h2: GOAWAY). */
  drain(): void;
  /** Shutdown notice: tell the peer to open nothing new here, still serving what arrives (h2: GOAWAY naming the highest stream id). */
  notice?(): void;
}

/**
 * The open client connections of one server, with a per-peer count for the connection limit,
 * closing by peer (deny-list changes) and draining.
 */
export class ClientConnections {
  readonly #all = new Map<ClientConnection, string>();
  readonly #perPeer = new Map<string, number>();
  readonly #emptyWaiters: (() => void)[] = [];

  /** Registers a connection unless `peerKey` already holds `max`; returns false when refused. */
  tryAdd(conn: ClientConnection, peerKey: string, max: number): boolean {
    const n = this.#perPeer.get(peerKey) ?? 0;
    if (n >= max) return false;
    this.#perPeer.set(peerKey, n + 1);
    this.#all.set(conn, peerKey);
    return true;
  }

  remove(conn: ClientConnection): void {
    const key = this.#all.get(conn);
    if (key === undefined) return;
    this.#all.delete(conn);
    const n = (this.#perPeer.get(key) ?? 1) - 1;
    if (n <= 0) this.#perPeer.delete(key);
    else this.#perPeer.set(key, n);
    if (this.#all.size === 0) for (const wake of this.#emptyWaiters.splice(0)) wake();
  }

  get size(): number {
    return this.#all.size;
  }

  closeWhere(match: (peer: PeerInfo) => boolean): number {
    let n = 0;
    for (const conn of this.#all.keys()) {
      if (conn.peer !== undefined && match(conn.peer)) {
        conn.socket.destroy();
        n++;
      }
    }
    return n;
  }

  drainAll(): void {
    for (const conn of this.#all.keys()) conn.drain();
  }

  noticeAll(): void {
    for (const conn of this.#all.keys()) conn.notice?.();
  }

  destroyAll(): void {
    for (const conn of [...this.#all.keys()]) conn.socket.destroy();
  }

  /** Resolves true once no connection is left, or false after `timeoutMs`. */
  waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#all.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.#emptyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
