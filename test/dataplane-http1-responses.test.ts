import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, plainConnect, startPair, type Pair } from './fixtures/pki-pair.ts';

// Upstream responses written byte for byte (one write each unless noted), to pin down how the
// sidecars relay a head and the body bytes that arrive with it: small bodies leave in the same
// write as the head, larger ones are streamed, and bytes past the body never reach the client.
const LARGE = 'x'.repeat(40_000);
const RESPONSES: Record<string, string> = {
  '/small': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  '/large': `HTTP/1.1 200 OK\r\nContent-Length: ${LARGE.length}\r\n\r\n${LARGE}`,
  '/trailing': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK',
  '/close-token': 'HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\nbye',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n',
};

let app: Server;
let appConnections = 0;
/** The app connection (by number) that served each request, in order. */
const served: number[] = [];
let pair: Pair;

function serve(socket: Socket): void {
  const id = ++appConnections;
  socket.on('error', () => undefined);
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      const path = pending.slice(0, pending.indexOf('\r\n')).split(' ')[1] ?? '';
      pending = pending.slice(end + 4);
      served.push(id);
      if (path === '/split') {
        // The head alone, the body in a later write.
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
        setTimeout(() => socket.write('later'), 20);
      } else {
        socket.write(RESPONSES[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
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

const get = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: orders\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

/** The status lines and bodies of the responses in `raw`, in order (Content-Length or chunked framing). */
function responses(raw: string): { status: number; connection: string | undefined; body: string }[] {
  const out: { status: number; connection: string | undefined; body: string }[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new Error(`incomplete response: ${JSON.stringify(rest.slice(0, 80))}`);
    const head = rest.slice(0, headEnd);
    rest = rest.slice(headEnd + 4);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    let body: string;
    if (length !== null) {
      body = rest.slice(0, Number(length[1]));
      rest = rest.slice(body.length);
    } else {
      const end = rest.indexOf('0\r\n\r\n');
      body = rest.slice(0, end + 5);
      rest = rest.slice(end + 5);
    }
    out.push({ status: Number(head.slice(9, 12)), connection: /\r\nconnection: ([^\r]*)/i.exec(head)?.[1], body });
  }
  return out;
}

describe('HTTP/1.1 responses relayed by the sidecar pair', () => {
  it('relays pipelined small, large, split and chunked responses in order over one upstream connection', async () => {
    const from = served.length;
    const raw = await exchange(plainConnect(pair.outbound.address.port), get('/small') + get('/large') + get('/split') + get('/chunked') + get('/small', true));
    expect(responses(raw)).toEqual([
      { status: 200, connection: undefined, body: 'hello' },
      { status: 200, connection: undefined, body: LARGE },
      { status: 200, connection: undefined, body: 'later' },
      { status: 200, connection: undefined, body: '4\r\nabcd\r\n0\r\n\r\n' },
      { status: 200, connection: 'close', body: 'hello' },
    ]);
    expect(new Set(served.slice(from)).size).toBe(1);
  });

  it('never forwards bytes past a Content-Length body, and drops that upstream connection', async () => {
    const from = served.length;
    const raw = await exchange(plainConnect(pair.outbound.address.port), get('/trailing') + get('/small', true));
    expect(responses(raw)).toEqual([
      { status: 200, connection: undefined, body: 'ok' },
      { status: 200, connection: 'close', body: 'hello' },
    ]);
    expect(raw).not.toContain('JUNK');
    // The second request could not use the connection that carried the junk.
    const [first, second] = served.slice(from);
    expect(second).not.toBe(first);
  });

  it('honours a close token in any case among several, and does not forward the connection headers', async () => {
    const from = served.length;
    const raw = await exchange(plainConnect(pair.outbound.address.port), get('/close-token') + get('/small', true));
    expect(responses(raw)).toEqual([
      { status: 200, connection: undefined, body: 'bye' },
      { status: 200, connection: 'close', body: 'hello' },
    ]);
    expect(raw.toLowerCase()).not.toContain('keep-alive');
    const [first, second] = served.slice(from);
    expect(second).not.toBe(first);
  });
});
