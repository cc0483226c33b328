import { createServer, type Server, type Socket } from 'node:net';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { Connector } from '../pool/upstream-pool.ts';
import { ClientConnections, type ClientConnection } from '../pool/client-connections.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { BytePipe } from './byte-pipe.ts';

/** Connection attempts per app connection (the first, plus one failover). */
const MAX_DIAL_ATTEMPTS = 2;

class TcpOutboundConnection implements ClientConnection {
  readonly socket: Socket;
  readonly peer = undefined;
  constructor(socket: Socket) {
    this.socket = socket;
  }
  drain(): void {
    // Opaque bytes: nothing to finish gracefully; the grace period applies.
  }
}

/**
 * The local listener of one opaque-TCP service: each app connection becomes one mTLS connection
 * to the destination sidecar (ALPN `ztmesh-tcp`, identity checked), preceded by the 2-byte
 * big-endian destination port, then bytes are piped both ways.
 */
export class TcpOutboundListener {
  readonly name: string;
  readonly server: Server;
  readonly conns = new ClientConnections();
  readonly #connector: Connector;
  readonly #preamble: Buffer;
  readonly #refusals: RefusalLog;
  readonly #maxPerPeer: number;
  readonly #connectTimeoutMs: number;

  constructor(name: string, connector: Connector, destinationPort: number, refusals: RefusalLog, maxPerPeer: number, connectTimeoutMs: number) {
    this.#connectTimeoutMs = connectTimeoutMs;
    this.name = name;
    this.#connector = connector;
    this.#refusals = refusals;
    this.#maxPerPeer = maxPerPeer;
    this.#preamble = Buffer.alloc(2);
    this.#preamble.writeUInt16BE(destinationPort, 0);
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
  }

  #accept(app: Socket): void {
    app.on('error', () => undefined);
    const conn = new TcpOutboundConnection(app);
    if (!this.conns.tryAdd(conn, app.remoteAddress ?? '', this.#maxPerPeer)) {
      this.#refusals.record('ZTMESH_SIDECAR_TOO_MANY_CONNECTIONS', 'too many TCP connections from this source', { service: this.name });
      app.destroy();
      return;
    }
    app.on('close', () => this.conns.remove(conn));
    this.#dial(app, 0);
  }

  /**
   * Opens the mTLS connection for one app connection. The app is paused until the pipe is set
   * up, so a connection that fails before its handshake completed carried no byte and is
   * retried once on another endpoint (the balanced connector picks again).
   */
  #dial(app: Socket, attempt: number): void {
    let peer: Socket;
    try {
      peer = this.#connector.connect();
    } catch (err) {
      const r = upstreamRefusal(err, this.name);
      this.#refusals.record(r.code, r.message, { service: this.name });
      app.destroy();
      return;
    }
    let piped = false;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      peer.destroy();
      if (attempt < MAX_DIAL_ATTEMPTS - 1 && !app.destroyed) this.#dial(app, attempt + 1);
      else app.destroy();
    };
    peer.setTimeout(this.#connectTimeoutMs, () => {
      if (piped) return;
      this.#refusals.record('ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `connecting to ${this.name} timed out`, { service: this.name });
      fail();
    });
    peer.on('error', (err: Error) => {
      if (piped) return;
      const r = upstreamRefusal(err, this.name);
      this.#refusals.record(r.code, r.message, { service: this.name });
      fail();
    });
    peer.on(this.#connector.readyEvent, () => {
      if (failed) return;
      piped = true;
      peer.setTimeout(0);
      peer.write(this.#preamble);
      new BytePipe(app, peer, () => undefined);
    });
    app.on('close', () => {
      if (!piped) peer.destroy();
    });
  }
}
