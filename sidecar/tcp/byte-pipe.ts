import type { Socket } from 'node:net';

/**
 * Copies bytes both ways between two connected sockets with backpressure (pause on a full write
 * buffer, resume on drain) and half-close (an end on one side ends the other's write side). Any
 * error or close on one side destroys the other. Both sockets must already have 'error' listeners.
 */
export class BytePipe {
  readonly a: Socket;
  readonly b: Socket;
  readonly #onDone: () => void;
  #done = false;

  constructor(a: Socket, b: Socket, onDone: () => void) {
    this.a = a;
    this.b = b;
    this.#onDone = onDone;
    a.on('data', (chunk: Buffer) => {
      if (!b.write(chunk)) a.pause();
    });
    b.on('data', (chunk: Buffer) => {
      if (!a.write(chunk)) b.pause();
    });
    a.on('drain', () => b.resume());
    b.on('drain', () => a.resume());
    a.on('end', () => b.end());
    b.on('end', () => a.end());
    a.on('close', () => this.#finish(b));
    b.on('close', () => this.#finish(a));
    a.resume();
    b.resume();
  }

  #finish(other: Socket): void {
    if (!other.destroyed) {
      // A clean close after both ends finished lets the other side flush; an abort tears it down.
      if (other.writableEnded) other.destroySoon();
      else other.destroy();
    }
    if (this.#done) return;
    this.#done = true;
    this.#onDone();
  }
}
