import { describe, expect, it } from 'vitest';
import { HEAD_BARE_LF, HEAD_INCOMPLETE, findHeadEnd } from './head-end.ts';
import { RequestHead, parseRequestHead } from './request-head.ts';
import { forwardRequestHead } from './forward-request-head.ts';

function parse(text: string): RequestHead | { code: string } {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0, 0, buf.length);
  if (end < 0) throw new Error(`no head end: ${end}`);
  const r = parseRequestHead(buf, 0, end, 100);
  return r instanceof RequestHead ? r : { code: r.code };
}

describe('parseRequestHead', () => {
  it('extracts what routing, policy and framing need', () => {
    const head = parse('POST /a?b=1 HTTP/1.1\r\nHost: orders:8080\r\nContent-Length: 12\r\nX-Request-Id: abc\r\nTraceparent: 00-x\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccept: a\r\nAccept: b\r\n\r\n') as RequestHead;
    expect(head).toBeInstanceOf(RequestHead);
    expect([head.method, head.target, head.targetForm, head.host, head.contentLength, head.chunked, head.requestId, head.traceparent]).toEqual([
      'POST', '/a?b=1', 'origin', 'orders:8080', 12, false, 'abc', '00-x',
    ]);
    expect(head.header('accept')).toBe('a, b');
    expect(head.keepAlive()).toBe(true);
  });

  it('forwards the kept header lines byte for byte, without hop-by-hop, identity and tracing headers', () => {
    const head = parse(
      'GET /x HTTP/1.1\r\nHost: o\r\nConnection: X-Hop\r\nX-Hop: 1\r\nx-ztmesh-peer-identity: forged\r\nB3: 1\r\nX-B3-TraceId: 2\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Keep: v\r\n\r\n',
    ) as RequestHead;
    expect(forwardRequestHead(head, '/y', 'x-add: 1\r\n').toString()).toBe('GET /y HTTP/1.1\r\nHost: o\r\nX-Keep: v\r\nx-add: 1\r\n\r\n');
  });

  it('forwards the right lines of a head in the middle of a buffer, its last line dropped or kept', () => {
    const first = 'GET /a HTTP/1.1\r\nHost: o\r\n\r\n';
    const second = 'POST /b HTTP/1.1\r\nHost: o\r\nContent-Length: 4\r\nX-Request-Id: r1\r\n\r\n';
    const buf = Buffer.from(`${first}${second}bodyGET /c HTTP/1.1\r\nHost: o\r\nX-Last: 1\r\n\r\n`, 'latin1');
    const end = findHeadEnd(buf, first.length, first.length, buf.length);
    const head = parseRequestHead(buf, first.length, end, 100) as RequestHead;
    expect(forwardRequestHead(head, '/b', 'x-add: 1\r\n').toString()).toBe('POST /b HTTP/1.1\r\nHost: o\r\nContent-Length: 4\r\nx-add: 1\r\n\r\n');
    const thirdStart = end + 4;
    const third = parseRequestHead(buf, thirdStart, findHeadEnd(buf, thirdStart, thirdStart, buf.length), 100) as RequestHead;
    expect(forwardRequestHead(third, '/c', '').toString()).toBe('GET /c HTTP/1.1\r\nHost: o\r\nX-Last: 1\r\n\r\n');
  });

  it('re-adds the upgrade headers for an upgrade', () => {
    const head = parse('GET /ws HTTP/1.1\r\nHost: o\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n') as RequestHead;
    expect(head.isUpgrade()).toBe(true);
    expect(forwardRequestHead(head, '/ws', '').toString()).toBe('GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nHost: o\r\n\r\n');
  });

  it('treats HTTP/1.0 as close unless keep-alive is asked for', () => {
    expect((parse('GET / HTTP/1.0\r\n\r\n') as RequestHead).keepAlive()).toBe(false);
    expect((parse('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n') as RequestHead).keepAlive()).toBe(true);
  });

  it('replaces a malformed or repeated x-request-id', () => {
    expect((parse('GET / HTTP/1.1\r\nHost: o\r\nX-Request-Id: a b\r\n\r\n') as RequestHead).requestId).toBeUndefined();
    expect((parse('GET / HTTP/1.1\r\nHost: o\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n') as RequestHead).requestId).toBeUndefined();
  });

  it.each([
    ['GET / HTTP/1.1\r\nHost: o\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'ZTMESH_SIDECAR_CL_AND_TE'],
    ['GET / HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: gzip\r\n\r\n', 'ZTMESH_SIDECAR_BAD_TRANSFER_ENCODING'],
    ['GET / HTTP/1.1\r\nHost: o\r\nContent-Length: -1\r\n\r\n', 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
    ['GET / HTTP/1.1\r\nHost: o\r\nContent-Length: 1234567890123456\r\n\r\n', 'ZTMESH_SIDECAR_BAD_CONTENT_LENGTH'],
    ['GET / HTTP/1.1\r\nHost: o\r\n\tX: folded\r\n\r\n', 'ZTMESH_SIDECAR_OBS_FOLD'],
    ['GET / HTTP/1.1\r\nHost: o/p\r\n\r\n', 'ZTMESH_SIDECAR_BAD_HOST'],
    ['GET / HTTP/1.1\r\nHost:\r\n\r\n', 'ZTMESH_SIDECAR_BAD_HOST'],
    ['GET https://o/ HTTP/1.1\r\nHost: o\r\n\r\n', 'ZTMESH_SIDECAR_BAD_TARGET'],
    ['G@T / HTTP/1.1\r\nHost: o\r\n\r\n', 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
    ['GET / HTTP/1.2\r\nHost: o\r\n\r\n', 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
    ['GET / http/1.1\r\nHost: o\r\n\r\n', 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
    ['GET /\u00e9 HTTP/1.1\r\nHost: o\r\n\r\n', 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
    [': v\r\n\r\n', 'ZTMESH_SIDECAR_BAD_REQUEST_LINE'],
  ])('refuses %j', (text, code) => {
    expect(parse(text)).toEqual({ code });
  });

  it('reports bare LF and incomplete heads while scanning', () => {
    const bare = Buffer.from('GET / HTTP/1.1\nHost: o\r\n\r\n');
    expect(findHeadEnd(bare, 0, 0, bare.length)).toBe(HEAD_BARE_LF);
    const partial = Buffer.from('GET / HTTP/1.1\r\nHost: o\r\n');
    expect(findHeadEnd(partial, 0, 0, partial.length)).toBe(HEAD_INCOMPLETE);
  });
});
