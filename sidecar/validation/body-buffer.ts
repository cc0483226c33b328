import type { RequestHead } from '../http1/request-head.ts';

/**
 * The bytes of one request body that request validation must see whole, as framed on the wire
 * (HTTP/1.1). The connection bounds it with the route's body limit before adding; one per
 * connection, reused for each validated request.
 */
export class BodyBuffer {
  #chunks: Buffer[] = [];

  reset(): void {
    this.#chunks = [];
  }

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  /** Everything added since the last reset, as one buffer (emptied). */
  take(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

const FRAMING = new Set(['content-length', 'transfer-encoding', 'expect']);

/**
 * Marks the framing lines of a head not to be forwarded: a validated body goes on re-framed with
 * its own Content-Length (chunk framing and trailers are not kept), and the sidecar answered any
 * `Expect: 100-continue` itself.
 */
export function dropFramingHeaders(head: RequestHead): void {
  const names = head.names;
  for (let k = 0; k < names.length; k++) if (FRAMING.has(names[k]!)) head.drop[k] = true;
}
