import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, exchange, mtlsConnect, plainConnect, startPair, type Pair } from './fixtures/pki-pair.ts';

let app: Server;
let completed = 0;
let pair: Pair;

beforeAll(async () => {
  app = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      completed++;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  pair = await startPair({ app: { host: '127.0.0.1', port: (app.address() as { port: number }).port }, limits: { maxBodyBytes: 1000, headersTimeoutMs: 300 } });
});

afterAll(async () => {
  await pair.close();
  await new Promise<void>((r) => app.close(() => r()));
});

const H = 'Host: orders\r\n';
const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
const cases: [string, string, number, string][] = [
  ['CL.TE', `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, 400, 'ZTMESH_SIDECAR_CL_AND_TE'],
  ['TE.CL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_CL_AND_TE'],
  ['TE: xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
  ['TE: chunked, identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
  ['TE: identity, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
  ['double TE', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
  ['TE with space before colon', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['TE folded onto the previous line', `POST / HTTP/1.1\r\n${H}X-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_OBS_FOLD'],
  ['TE on HTTP/1.0', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
  ['CL with +', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['CL with 0x', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['CL with inner space', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['CL list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['duplicate equal CL', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['duplicate differing CL', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400, 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
  ['chunk size overflow', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_CHUNK'],
  ['chunk size 0x', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_CHUNK'],
  ['chunk size with space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_CHUNK'],
  ['chunk data without CRLF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_CHUNK'],
  ['chunk line with bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_CHUNK'],
  ['LF-only head', `GET / HTTP/1.1\nHost: orders\n\n`, 400, 'ZTMESH_SIDECAR_BARE_LF'],
  ['bare CR in a value', `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['control char in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\u0001b\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['DEL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\u007fb\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['invalid header name', `GET / HTTP/1.1\r\n${H}X(A): b\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HEADER'],
  ['request line with extra spaces', `GET  / HTTP/1.1\r\n${H}\r\n`, 400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ['request line with trailing space', `GET / HTTP/1.1 \r\n${H}\r\n`, 400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ['HTTP/0.9', `GET /\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ['HTTP/2.0 over HTTP/1', `GET / HTTP/2.0\r\n${H}\r\n`, 400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ['NUL in the target', `GET /a\u0000b HTTP/1.1\r\n${H}\r\n`, 400, 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ['no Host', `GET / HTTP/1.1\r\nX-A: b\r\n\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HOST'],
  ['two Hosts', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400, 'ZTMESH_SIDECAR_BAD_HOST'],
  ['very long header', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'ZTMESH_SIDECAR_HEADERS_TOO_LARGE'],
  ['too many headers', `GET / HTTP/1.1\r\n${H}${many}\r\n`, 431, 'ZTMESH_SIDECAR_TOO_MANY_HEADERS'],
  ['body over the limit (Content-Length)', `POST / HTTP/1.1\r\n${H}Content-Length: 1001\r\n\r\n`, 413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE'],
  ['body over the limit (chunked)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3e9\r\n${'a'.repeat(1001)}\r\n0\r\n\r\n`, 413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE'],
  ['unsupported Expect', `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 1\r\n\r\na`, 417, 'ZTMESH_SIDECAR_UNSUPPORTED_EXPECT'],
  ['encoded slash in the path', `GET /a%2Fb HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 400, 'ZTMESH_HTTP_PATH_ENCODED_SLASH'],
];

function parse(raw: string): { status: number; code: string | undefined; close: boolean; count: number } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { error: { code: string } }).error.code;
  } catch {
    code = undefined;
  }
  return { status, code, close: /\r\nconnection: close\r\n/i.test(raw), count: (raw.match(/HTTP\/1\.1 \d{3}/g) ?? []).length };
}

for (const side of ['inbound', 'outbound'] as const) {
  describe(`strict HTTP/1.1 on ${side}: refused before anything is forwarded`, () => {
    it.each(cases)('%s', async (name, request, status, code) => {
      // The path normalization refusal is an inbound (policy) step; outbound forwards the raw path.
      if (side === 'outbound' && code.startsWith('ZTMESH_HTTP_')) return;
      const before = completed;
      const socket = side === 'inbound' ? mtlsConnect(pair.inbound.address.port, pair.client, pair.pki.bundlePem) : plainConnect(pair.outbound.address.port);
      const raw = await exchange(socket, request);
      const got = parse(raw);
      expect({ name, status: got.status, code: got.code, responses: got.count }).toEqual({ name, status, code, responses: 1 });
      if (!code.startsWith('ZTMESH_HTTP_')) expect(got.close).toBe(true);
      expect(completed).toBe(before);
      const registry = side === 'inbound' ? pair.inboundMetrics : pair.outboundMetrics;
      expect(counterValue(registry, `ztmesh_sidecar_refusals_total{direction="${side}",code="${code}"}`)).toBeGreaterThan(0);
    });

    it('answers 408 to a head that never completes', async () => {
      const socket = side === 'inbound' ? mtlsConnect(pair.inbound.address.port, pair.client, pair.pki.bundlePem) : plainConnect(pair.outbound.address.port);
      const raw = await exchange(socket, 'GET / HTTP/1.1\r\nHost: ord', 3000);
      expect(parse(raw)).toMatchObject({ status: 408, code: 'ZTMESH_SIDECAR_HEADERS_TIMEOUT', close: true });
    });
  });
}
