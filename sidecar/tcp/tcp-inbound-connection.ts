import { connect, type Socket } from 'node:net';
import type { Expirable, CoarseTimers } from '../pool/coarse-timers.ts';
import type { ClientConnection } from '../pool/client-connections.ts';
import type { PeerInfo } from '../tls/peer-info.ts';
import type { RefusalLog } from '../errors/refusal-log.ts';
import type { Refusal } from '../errors/refusal.ts';
import { refusal } from '../errors/refusal.ts';
import { upstreamRefusal } from '../errors/upstream-refusal.ts';
import { BytePipe } from './byte-pipe.ts';

/** What an inbound opaque-TCP connection needs from its server. */
export interface TcpInboundContext {
  readonly appHost: string;
  readonly tcpPorts: ReadonlySet<number>;
  readonly timers: CoarseTimers;
  readonly preambleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly refusals: RefusalLog;
  /** Authorizes the connection to `port` (method/path undefined); a refusal closes it. */
  authorize(peer: PeerInfo, sourceIp: string, port: number): Refusal | undefined;
}

/**
 * One mTLS connection negotiated with ALPN `ztmesh-tcp`: a 2-byte big-endian destination port,
 * then opaque bytes. Only ports in `tcpPorts` are reachable, each connection is authorized like a
 * request without method or path, then bytes are piped to the local app.
 */
export class TcpInboundConnection implements ClientConnection, Expirable {
  readonly socket: Socket;
  readonly peer: PeerInfo;
  readonly ctx: TcpInboundContext;
  deadline: number;
  app: Socket | null = null;
  pipe: BytePipe | null = null;
  readonly #onPreamble: (chunk: Buffer) => void;
  #head: Buffer | null = null;

  constructor(socket: Socket, peer: PeerInfo, ctx: TcpInboundContext, onClosed: (conn: TcpInboundConnection) => void) {
    this.socket = socket;
    this.peer = peer;
    this.ctx = ctx;
    this.deadline = ctx.timers.now + ctx.preambleTimeoutMs;
    ctx.timers.add(this);
    this.#onPreamble = (chunk) => this.#preamble(chunk);
    socket.on('data', this.#onPreamble);
    socket.on('close', () => {
      ctx.timers.delete(this);
      if (this.pipe === null) this.app?.destroy();
      onClosed(this);
    });
  }

  #preamble(chunk: Buffer): void {
    const buf = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
    if (buf.length < 2) {
      this.#head = buf;
      return;
    }
    this.socket.removeListener('data', this.#onPreamble);
    this.socket.pause();
    const port = buf.readUInt16BE(0);
    if (buf.length > 2) this.socket.unshift(buf.subarray(2));
    if (!this.ctx.tcpPorts.has(port)) {
      this.#refuse(refusal(403, 'ZTMESH_SIDECAR_DENIED', `port ${port} is not exposed for TCP`));
      return;
    }
    const denied = this.ctx.authorize(this.peer, this.socket.remoteAddress ?? '', port);
    if (denied !== undefined) {
      this.#refuse(denied);
      return;
    }
    this.deadline = this.ctx.timers.now + this.ctx.connectTimeoutMs;
    const app = connect({ host: this.ctx.appHost, port, allowHalfOpen: true });
    this.app = app;
    app.on('error', (err) => {
      if (this.pipe === null) this.#refuse(upstreamRefusal(err, `app port ${port}`));
    });
    app.on('connect', () => {
      this.deadline = 0;
      this.ctx.timers.delete(this);
      this.pipe = new BytePipe(this.socket, app, () => undefined);
    });
  }

  #refuse(r: Refusal): void {
    this.ctx.refusals.record(r.code, r.message, { peer: this.peer.id, remote: this.socket.remoteAddress });
    this.app?.destroy();
    this.socket.destroy();
  }

  onExpire(): void {
    this.#refuse(
      this.app === null
        ? refusal(408, 'ZTMESH_SIDECAR_HEADERS_TIMEOUT', 'no TCP destination port preamble in time')
        : refusal(504, 'ZTMESH_SIDECAR_UPSTREAM_TIMEOUT', 'connecting to the app timed out'),
    );
  }

  drain(): void {
    // Opaque bytes have no message boundary: the grace period is all an open tunnel gets.
  }
}
