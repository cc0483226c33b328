import { describe, expect, it } from 'vitest';
import { ResponseHead, forwardResponseHead, parseResponseHead } from './response-head.ts';

function parse(text: string): ResponseHead | string {
  const buf = Buffer.from(text, 'latin1');
  return parseResponseHead(buf, 0, buf.length);
}

describe('parseResponseHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'GET', 'length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD', 'none'],
    ['HTTP/1.1 204 No Content\r\n\r\n', 'GET', 'none'],
    ['HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', 'GET', 'none'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', 'chunked'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET', 'close'],
    ['HTTP/1.1 200 OK\r\n\r\n', 'GET', 'close'],
    ['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', 'GET', 'none'],
  ])('%j to %s is framed as %s', (text, method, framing) => {
    const head = parse(text) as ResponseHead;
    expect(head).toBeInstanceOf(ResponseHead);
    expect(head.framing(method)).toBe(framing);
  });

  it.each([
    'HTTP/1.1 99 X\r\n\r\n',
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX: a\u0000\r\n\r\n',
  ])('refuses %j', (text) => {
    expect(typeof parse(text)).toBe('string');
  });

  it('drops connection headers and adds Connection: close when asked', () => {
    const text = 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n';
    const buf = Buffer.from(text);
    const head = parseResponseHead(buf, 0, buf.length) as ResponseHead;
    expect(forwardResponseHead(buf, 0, head, false).toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
    expect(forwardResponseHead(buf, 0, head, true).toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n');
  });

  it('reads Connection tokens in any case, among others, with optional whitespace', () => {
    const close = parse('HTTP/1.1 200 OK\r\nconnection: Upgrade ,\tCLOSE\r\nContent-Length: 0\r\n\r\n') as ResponseHead;
    expect({ close: close.connClose, keepAlive: close.connKeepAlive }).toEqual({ close: true, keepAlive: false });
    const keep = parse('HTTP/1.0 200 OK\r\nCONNECTION: Keep-Alive\r\nContent-Length: 0\r\n\r\n') as ResponseHead;
    expect({ close: keep.connClose, keepAlive: keep.connKeepAlive, reusable: keep.reusable() }).toEqual({ close: false, keepAlive: true, reusable: true });
    // Tokens that merely contain the words do not count.
    const neither = parse('HTTP/1.1 200 OK\r\nConnection: closed, keep-alive-x\r\nContent-Length: 0\r\n\r\n') as ResponseHead;
    expect({ close: neither.connClose, keepAlive: neither.connKeepAlive }).toEqual({ close: false, keepAlive: false });
  });

  it.each(['', '+5', '5 5', '0x5', '1234567890123456', '5,5'])('refuses Content-Length %j', (value) => {
    expect(parse(`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\n`)).toBe('invalid Content-Length');
  });

  it('reads Content-Length in any case, trailing whitespace ignored', () => {
    const head = parse('HTTP/1.1 200 OK\r\nCONTENT-length: 123456789012345 \r\n\r\n') as ResponseHead;
    expect(head.contentLength).toBe(123456789012345);
  });

  it('copies body bytes behind the rewritten head when asked (one write for a small response)', () => {
    const text = 'junkHTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\nProxy-Connection: x\r\n\r\nhelloNEXT';
    const buf = Buffer.from(text, 'latin1');
    const end = text.indexOf('\r\n\r\n') + 4;
    const head = parseResponseHead(buf, 4, end) as ResponseHead;
    expect(forwardResponseHead(buf, 4, head, false, end + 5).toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    expect(forwardResponseHead(buf, 4, head, true, end + 5).toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    expect(forwardResponseHead(buf, 4, head, false).toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  });

  it('does not reuse a connection after TE with Content-Length', () => {
    const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n') as ResponseHead;
    expect(head.framing('GET')).toBe('chunked');
    expect(head.reusable()).toBe(false);
  });
});
