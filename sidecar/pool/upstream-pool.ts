import type { Socket } from 'node:net';
import type { CoarseTimers, Expirable } from './coarse-timers.ts';
import type { ReadSink } from './reused-read-buffer.ts';

/** Whoever currently uses an upstream connection (one exchange at a time) receives its events. */
export interface UpstreamOwner {
  onUpstreamConnect(up: Upstream): void;
  /** Returns true when it may still reference `chunk` after returning (queued in a write buffer, kept). */
  onUpstreamData(up: Upstream, chunk: Buffer): boolean;
  onUpstreamEnd(up: Upstream): void;
  onUpstreamError(up: Upstream, err: Error): void;
  onUpstreamClose(up: Upstream): void;
  onUpstreamDrain(up: Upstream): void;
}

/** Opens a new connection to one destination; `readyEvent` is 'connect' (plain) or 'secureConnect' (TLS). */
export interface Connector {
  readonly readyEvent: 'connect' | 'secureConnect';
  /**
   * Throws a MeshError when no connection can be attempted (e.g. no credentials). A connector that
   * can read into a reused buffer delivers reads to `sink` instead of emitting 'data'.
   */
  connect(sink?: ReadSink): Socket;
}

/**
 * Optional per-exchange hooks of a pool (the outbound balancer's view of one endpoint): when an
 * exchange begins on a connection, when its first response byte arrives, when it ends (released
 * or discarded), and when a connection fails before it was established, i.e. before a byte of the
 * request was sent, so the exchange may move to another endpoint (return true when moved).
 */
export interface ExchangeHooks {
  begin(up: Upstream): void;
  firstByte(up: Upstream, chunk: Buffer): void;
  end(up: Upstream): void;
  connectFailed(up: Upstream, err: Error): boolean;
}

/** One pooled connection to an upstream (the local app, or a peer sidecar over mTLS). */
export class Upstream implements Expirable, ReadSink {
  /** The transport; replaced (with `pool`) only while not yet connected, when the exchange fails over. */
  socket: Socket;
  pool: UpstreamPool;
  owner: UpstreamOwner | null = null;
  connected = false;
  /** Served an earlier exchange (so a reset before any response byte may be a stale keep-alive). */
  reused = false;
  idle = false;
  deadline = 0;
  /** performance.now() when the current exchange began (0: none, or hooks not in use). */
  exchangeStart = 0;
  /** The current exchange saw its first response byte. */
  answered = false;
  /** Endpoints this exchange already moved away from after connect failures. */
  failovers = 0;

  constructor(pool: UpstreamPool, connector: Connector) {
    this.pool = pool;
    this.socket = connector.connect(this);
    this.attach(this.socket, connector.readyEvent);
  }

  /** Bytes read from `socket` (as 'data' or into a reused read buffer); true when the owner kept a reference. */
  onRead(socket: Socket, chunk: Buffer): boolean {
    if (socket !== this.socket) return false;
    if (this.owner === null) {
      this.pool.discard(this); // an idle upstream must not talk
      return false;
    }
    if (!this.answered && this.exchangeStart !== 0) {
      this.answered = true;
      this.pool.hooks?.firstByte(this, chunk);
    }
    return this.owner.onUpstreamData(this, chunk);
  }

  /** Binds the socket's events; events of a socket this upstream has since left are ignored. */
  attach(socket: Socket, readyEvent: 'connect' | 'secureConnect'): void {
    this.socket = socket;
    socket.on('error', (err: Error) => {
      if (socket !== this.socket) return;
      if (this.owner === null) {
        this.pool.discard(this);
        return;
      }
      const hooks = this.pool.hooks;
      if (!this.connected && hooks !== null && hooks.connectFailed(this, err)) return;
      this.owner.onUpstreamError(this, err);
    });
    socket.on(readyEvent, () => {
      if (socket !== this.socket) return;
      this.connected = true;
      socket.setNoDelay(true);
      if (this.owner !== null) this.owner.onUpstreamConnect(this);
    });
    socket.on('data', (chunk: Buffer) => this.onRead(socket, chunk));
    socket.on('end', () => {
      if (socket !== this.socket) return;
      if (this.owner !== null) this.owner.onUpstreamEnd(this);
      else this.pool.discard(this);
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      if (this.owner !== null) this.owner.onUpstreamClose(this);
      this.pool.discard(this);
    });
    socket.on('drain', () => {
      if (socket !== this.socket) return;
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
  /** Set by a balancer that tracks exchanges on this pool's endpoint. */
  hooks: ExchangeHooks | null = null;

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
      this.hooks?.begin(up);
      return up;
    }
    return this.connectNew(owner);
  }

  /** Always a fresh connection (used to retry after a stale keep-alive connection). */
  connectNew(owner: UpstreamOwner): Upstream {
    const up = new Upstream(this, this.#connector);
    up.owner = owner;
    this.#all.add(up);
    this.hooks?.begin(up);
    return up;
  }

  /**
   * Takes over a not-yet-connected upstream from another pool (failover after a connect failure):
   * a fresh connection to this pool's destination, same owner. Throws like `connectNew`.
   */
  adopt(up: Upstream, from: UpstreamPool): void {
    const socket = this.#connector.connect(up);
    from.#all.delete(up);
    from.#timers.delete(up);
    const old = up.socket;
    up.pool = this;
    up.attach(socket, this.#connector.readyEvent);
    if (!old.destroyed) old.destroy();
    this.#all.add(up);
  }

  /** Returns a connection after an exchange: kept when `reusable`, else closed. */
  release(up: Upstream, reusable: boolean): void {
    if (up.exchangeStart !== 0) {
      this.hooks?.end(up);
      up.exchangeStart = 0;
    }
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
    if (up.exchangeStart !== 0) {
      this.hooks?.end(up);
      up.exchangeStart = 0;
    }
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

  /**
   * Retires the pool (its endpoint left the service): idle connections close now, connections in
   * use finish their exchange and then close; nothing new is acquired here.
   */
  retire(): void {
    this.#closed = true;
    for (const up of [...this.#idle]) this.discard(up);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every connection (in use ones too). */
  close(): void {
    this.#closed = true;
    for (const up of [...this.#all]) this.discard(up);
  }
}
