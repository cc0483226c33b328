import type { Socket } from 'node:net';
import type { CoarseTimers, Expirable } from './coarse-timers.ts';

/** Whoever currently uses an upstream connection (one exchange at a time) receives its events. */
export interface UpstreamOwner {
  onUpstreamConnect(up: Upstream): void;
  onUpstreamData(up: Upstream, chunk: Buffer): void;
  onUpstreamEnd(up: Upstream): void;
  onUpstreamError(up: Upstream, err: Error): void;
  onUpstreamClose(up: Upstream): void;
  onUpstreamDrain(up: Upstream): void;
}

/** Opens a new connection to one destination; `readyEvent` is 'connect' (plain) or 'secureConnect' (TLS). */
export interface Connector {
  readonly readyEvent: 'connect' | 'secureConnect';
  /** Throws a MeshError when no connection can be attempted (e.g. no credentials). */
  connect(): Socket;
}

/** One pooled connection to an upstream (the local app, or a peer sidecar over mTLS). */
export class Upstream implements Expirable {
  readonly socket: Socket;
  readonly pool: UpstreamPool;
  owner: UpstreamOwner | null = null;
  connected = false;
  /** Served an earlier exchange (so a reset before any response byte may be a stale keep-alive). */
  reused = false;
  idle = false;
  deadline = 0;

  constructor(pool: UpstreamPool, socket: Socket, readyEvent: 'connect' | 'secureConnect') {
    this.pool = pool;
    this.socket = socket;
    socket.on('error', (err: Error) => {
      if (this.owner !== null) this.owner.onUpstreamError(this, err);
      else pool.discard(this);
    });
    socket.on(readyEvent, () => {
      this.connected = true;
      socket.setNoDelay(true);
      if (this.owner !== null) this.owner.onUpstreamConnect(this);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.owner !== null) this.owner.onUpstreamData(this, chunk);
      else pool.discard(this); // an idle upstream must not talk
    });
    socket.on('end', () => {
      if (this.owner !== null) this.owner.onUpstreamEnd(this);
      else pool.discard(this);
    });
    socket.on('close', () => {
      if (this.owner !== null) this.owner.onUpstreamClose(this);
      pool.discard(this);
    });
    socket.on('drain', () => {
      if (this.owner !== null) this.owner.onUpstreamDrain(this);
    });
  }

  onExpire(): void {
    this.pool.discard(this);
  }
}

/**
 * Long-lived keep-alive connections to one destination, one exchange at a time per connection
 * (like nginx's keepalive upstreams). Idle ones are reused LIFO (the warmest first) and closed
 * after `idleTimeoutMs` by the shared coarse timers.
 */
export class UpstreamPool {
  readonly name: string;
  readonly #connector: Connector;
  readonly #timers: CoarseTimers;
  readonly #idleTimeoutMs: number;
  readonly #maxIdle: number;
  readonly #idle: Upstream[] = [];
  readonly #all = new Set<Upstream>();
  #closed = false;

  constructor(name: string, connector: Connector, timers: CoarseTimers, idleTimeoutMs: number, maxIdle: number) {
    this.name = name;
    this.#connector = connector;
    this.#timers = timers;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#maxIdle = maxIdle;
  }

  /** An idle connection (connected, owner set) or a new one (not yet connected: wait for onUpstreamConnect). */
  acquire(owner: UpstreamOwner): Upstream {
    const idle = this.#idle;
    while (idle.length > 0) {
      const up = idle.pop()!;
      if (up.socket.destroyed || !up.socket.writable) {
        this.discard(up);
        continue;
      }
      up.idle = false;
      up.deadline = 0;
      this.#timers.delete(up);
      up.owner = owner;
      up.reused = true;
      return up;
    }
    return this.connectNew(owner);
  }

  /** Always a fresh connection (used to retry after a stale keep-alive connection). */
  connectNew(owner: UpstreamOwner): Upstream {
    const socket = this.#connector.connect();
    const up = new Upstream(this, socket, this.#connector.readyEvent);
    up.owner = owner;
    this.#all.add(up);
    return up;
  }

  /** Returns a connection after an exchange: kept when `reusable`, else closed. */
  release(up: Upstream, reusable: boolean): void {
    up.owner = null;
    if (!reusable || this.#closed || this.#idle.length >= this.#maxIdle || up.socket.destroyed || !up.connected) {
      this.discard(up);
      return;
    }
    up.idle = true;
    up.deadline = this.#timers.now + this.#idleTimeoutMs;
    this.#timers.add(up);
    this.#idle.push(up);
  }

  /** Closes and forgets a connection. */
  discard(up: Upstream): void {
    up.owner = null;
    if (up.idle) {
      up.idle = false;
      const i = this.#idle.indexOf(up);
      if (i !== -1) this.#idle.splice(i, 1);
    }
    this.#timers.delete(up);
    this.#all.delete(up);
    if (!up.socket.destroyed) up.socket.destroy();
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  get size(): number {
    return this.#all.size;
  }

  /** Closes every connection (in use ones too). */
  close(): void {
    this.#closed = true;
    for (const up of [...this.#all]) this.discard(up);
  }
}
