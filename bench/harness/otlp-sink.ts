import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A local OTLP/HTTP trace sink for scenario 5: accepts POST /v1/traces (protobuf or JSON), answers
 * success, discards the spans, and counts the exports (and those mentioning watched markers, such
 * as a service name: protobuf strings are plain bytes when uncompressed), so the harness can tell
 * whether a sidecar really sent any.
 */
export class OtlpSink {
  exports = 0;
  bytes = 0;
  readonly markers = new Map<string, number>();
  readonly #server: Server = createServer((req, res) => this.#onRequest(req, res));

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Starts counting exports that mention `marker`. */
  watch(marker: string): void {
    if (!this.markers.has(marker)) this.markers.set(marker, 0);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      this.exports += 1;
      const body = Buffer.concat(chunks);
      for (const [marker, count] of this.markers) if (body.includes(marker)) this.markers.set(marker, count + 1);
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  }
}
