import { connect, type Socket } from 'node:net';
import type { HostPort } from '../config/host-port.ts';
import type { Connector } from './upstream-pool.ts';
import { type ReadSink, reusedReadBuffer } from './reused-read-buffer.ts';

/** Plaintext connections to the local app. */
export class PlainConnector implements Connector {
  readonly readyEvent = 'connect' as const;
  readonly #target: HostPort;

  constructor(target: HostPort) {
    this.#target = target;
  }

  connect(sink?: ReadSink): Socket {
    const options = { host: this.#target.host, port: this.#target.port, allowHalfOpen: true, noDelay: true };
    if (sink === undefined) return connect(options);
    const socket: Socket = connect({ ...options, onread: reusedReadBuffer(sink, () => socket) });
    return socket;
  }
}
