import { randomBytes } from 'node:crypto';

/**
 * Request ids for requests that came without a valid `x-request-id`: a random per-process prefix
 * plus a counter (cheap, unique within the process, unguessable across processes).
 */
export class RequestIdGenerator {
  readonly #prefix: string;
  #counter = 0;

  constructor() {
    this.#prefix = randomBytes(6).toString('hex');
  }

  next(): string {
    this.#counter = (this.#counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.#prefix}-${this.#counter.toString(36)}`;
  }
}

export const requestIds = new RequestIdGenerator();
