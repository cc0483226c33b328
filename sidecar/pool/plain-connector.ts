import { connect, type Socket } from 'node:net';
import type { HostPort } from '../config/host-port.ts';
import type { Connector } from './upstream-pool.ts';

/** Plaintext connections to the local app. */
export class PlainConnector implements Connector {
  readonly readyEvent = 'connect' as const;
  readonly #target: HostPort;

  constructor(target: HostPort) {
    this.#target = target;
  }

  connect(): Socket {
    return connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true, noDelay: true });
  }
}
