import { createServer, type Server, type Socket } from 'node:net';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { PeerConnector } from '../outbound/peer-connector.ts';
import { ClientConnections, type ClientConnection } from '../pool/client-connections.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { BytePipe } from './byte-pipe.ts';

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
  readonly #connector: PeerConnector;
  readonly #preamble: Buffer;
  readonly #refusals: RefusalLog;
  readonly #maxPerPeer: number;
  readonly #connectTimeoutMs: number;

  constructor(name: string, connector: PeerConnector, destinationPort: number, refusals: RefusalLog, maxPerPeer: number, connectTimeoutMs: number) {
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
    peer.setTimeout(this.#connectTimeoutMs, () => {
      if (piped) return;
      this.#refusals.record('ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', `connecting to ${this.name} timed out`, { service: this.name });
      peer.destroy();
      app.destroy();
    });
    peer.on('error', (err: Error) => {
      if (piped) return;
      const r = upstreamRefusal(err, this.name);
      this.#refusals.record(r.code, r.message, { service: this.name });
      app.destroy();
    });
    peer.on('secureConnect', () => {
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
