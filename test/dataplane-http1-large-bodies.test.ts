import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainConnect, startPair, type Pair } from './fixtures/pki-pair.ts';

// The server-side sidecar reads the app's responses into one reused buffer (sidecar/pool/
// reused-read-buffer.ts). These responses make that buffer's reads race the client: random write
// sizes, heads split across writes, pipelined large bodies, a client that stops reading for a
// while. Every byte must arrive as the app wrote it, whatever the socket buffers did.
const BODY = randomBytes(6 * 1024 * 1024 + 77);
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');
const SMALL = randomBytes(3000);
// Larger than every socket buffer between the app and the client together (loopback buffers
// autotune to several MiB each), so a reader that stops makes the sidecars' writes queue up.
const HUGE = randomBytes(40 * 1024 * 1024);

let app: Server;
let pair: Pair;

/** Writes `data` in random pieces (1 byte to 200 KiB), each after the previous one drained. */
async function writeInPieces(socket: Socket, data: Buffer, seed: number): Promise<void> {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31);
  for (let at = 0; at < data.length && !socket.destroyed; ) {
    const size = 1 + (next() % (next() % 4 === 0 ? 64 : 200 * 1024));
    const piece = data.subarray(at, at + size);
    at += piece.length;
    if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r));
  }
}

function serve(socket: Socket): void {
  socket.on('error', () => undefined);
  let pending = '';
  let queue = Promise.resolve();
  let seed = 7;
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      const path = pending.slice(0, pending.indexOf('\r\n')).split(' ')[1] ?? '';
      pending = pending.slice(end + 4);
      seed += 1;
      const s = seed;
      queue = queue.then(async () => {
        if (path === '/huge') {
          await writeInPieces(socket, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${HUGE.length}\r\n\r\n`), HUGE]), s);
        } else if (path === '/big') {
          await writeInPieces(socket, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n`), BODY]), s);
        } else if (path === '/big-chunked') {
          const framed = Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
            Buffer.from(`${BODY.length.toString(16)}\r\n`), BODY, Buffer.from('\r\n0\r\n\r\n'),
          ]);
          await writeInPieces(socket, framed, s);
        } else {
          // A small body whose head arrives a few bytes at a time.
          await writeInPieces(socket, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nX-Pad: ${'p'.repeat(300)}\r\nContent-Length: ${SMALL.length}\r\n\r\n`), SMALL]), s);
        }
      });
    }
  });
}

beforeAll(async () => {
  app = createServer(serve);
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  pair = await startPair({ app: { host: '127.0.0.1', port: (app.address() as { port: number }).port } });
});

afterAll(async () => {
  await pair.close();
  await new Promise<void>((r) => app.close(() => r()));
});

interface Parsed { status: number; body: Buffer }

/**
 * Sends `paths` pipelined on one connection and parses the responses (Content-Length or chunked).
 * A slow reader pauses now and then; `stallAfterBytes` stops reading for 600 ms once that much arrived.
 */
function fetchPipelined(paths: string[], slowReader: boolean, stallAfterBytes = 0): Promise<Parsed[]> {
  const socket = plainConnect(pair.outbound.address.port);
  socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: orders\r\n\r\n`).join(''));
  return new Promise((resolve, reject) => {
    let bufs: Buffer[] = [];
    let have = 0;
    /** Parse again once this many bytes are here (a whole body is only parsed once complete). */
    let need = 1;
    let received = 0;
    let reads = 0;
    const out: Parsed[] = [];
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (stallAfterBytes > 0 && received - chunk.length < stallAfterBytes && received >= stallAfterBytes) {
        socket.pause();
        setTimeout(() => socket.resume(), 600);
      } else if (slowReader && ++reads % 8 === 0) {
        // Stop reading for a while: the sidecars' socket buffers fill and they must pause.
        socket.pause();
        setTimeout(() => socket.resume(), 15);
      }
      bufs.push(chunk);
      have += chunk.length;
      if (have < need) return;
      let buf = Buffer.concat(bufs);
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        let total = -1;
        let bodyStart = 0;
        let bodyLength = 0;
        if (headEnd !== -1) {
          const head = buf.subarray(0, headEnd).toString('latin1');
          const length = /\r\ncontent-length: (\d+)/i.exec(head);
          if (length !== null) {
            bodyStart = headEnd + 4;
            bodyLength = Number(length[1]);
            total = bodyStart + bodyLength;
          } else {
            const sizeEnd = buf.indexOf('\r\n', headEnd + 4);
            if (sizeEnd !== -1) {
              bodyStart = sizeEnd + 2;
              bodyLength = parseInt(buf.subarray(headEnd + 4, sizeEnd).toString('latin1'), 16);
              total = bodyStart + bodyLength + '\r\n0\r\n\r\n'.length;
            }
          }
        }
        if (total === -1 || buf.length < total) {
          need = total === -1 ? buf.length + 1 : total;
          bufs = [buf];
          have = buf.length;
          return;
        }
        out.push({ status: Number(buf.subarray(9, 12).toString('latin1')), body: Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLength)) });
        buf = buf.subarray(total);
        if (out.length === paths.length) {
          socket.destroy();
          resolve(out);
          return;
        }
      }
    });
    socket.on('close', () => reject(new Error(`connection closed after ${out.length} of ${paths.length} responses`)));
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('large response bodies through the sidecar pair', () => {
  it('relays a 6 MiB body written in random pieces byte for byte, to a fast and a slow reader at once', async () => {
    const [fast, slow] = await Promise.all([fetchPipelined(['/big'], false), fetchPipelined(['/big'], true)]);
    for (const r of [...fast!, ...slow!]) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(BODY.length);
      expect(sha(r.body)).toBe(BODY_SHA);
    }
  }, 60_000);

  it('relays a 40 MiB body intact to a reader that stops until every buffer up to the app is full', async () => {
    const [r] = await fetchPipelined(['/huge', '/small'], false, 1024 * 1024);
    expect(r!.status).toBe(200);
    expect(r!.body.length).toBe(HUGE.length);
    expect(sha(r!.body)).toBe(sha(HUGE));
  }, 60_000);

  it('relays pipelined large, chunked and split-head responses in order and intact to a slow reader', async () => {
    const got = await fetchPipelined(['/small', '/big', '/small', '/big-chunked', '/small'], true);
    expect(got.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sha(got[0]!.body)).toBe(sha(SMALL));
    expect(sha(got[1]!.body)).toBe(BODY_SHA);
    expect(sha(got[2]!.body)).toBe(sha(SMALL));
    expect(sha(got[3]!.body)).toBe(BODY_SHA);
    expect(sha(got[4]!.body)).toBe(sha(SMALL));
  }, 60_000);
});
