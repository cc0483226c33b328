import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedScanner } from './chunked-scanner.ts';

function scanAll(text: string, splits: number[] = []): number {
  const buf = Buffer.from(text, 'latin1');
  const s = new ChunkedScanner();
  let start = 0;
  for (const cut of [...splits.filter((x) => x > 0 && x < buf.length).sort((a, b) => a - b), buf.length]) {
    if (cut <= start) continue;
    const r = s.scan(buf, start, cut);
    if (r !== CHUNKED_NEED_MORE) return r;
    start = cut;
  }
  return CHUNKED_NEED_MORE;
}

describe('ChunkedScanner', () => {
  it('finds the end of a body with extensions and trailers, leaving what follows', () => {
    const body = '5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n';
    expect(scanAll(`${body}GET /next`)).toBe(body.length);
  });

  it.each([
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['space before CRLF', '5 \r\nhello\r\n0\r\n\r\n'],
    ['leading space', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['missing CRLF after data', '5\r\nhelloXX\r\n0\r\n\r\n'],
    ['overflowing size', 'fffffffffffffffff\r\n'],
    ['bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['control char in extension', '5;\u0001\r\nhello\r\n0\r\n\r\n'],
    ['bad trailer', '0\r\n bad\r\n\r\n'],
  ])('refuses %s', (_name, text) => {
    expect(scanAll(text)).toBe(CHUNKED_ERROR);
  });

  it('gives the same answer however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 6 }), fc.array(fc.nat(200), { maxLength: 10 }), (chunks, splits) => {
        const body = chunks.map((c) => `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
        expect(scanAll(`${body}rest`, splits)).toBe(body.length);
      }),
    );
  });

  it('counts the decoded body bytes', () => {
    const s = new ChunkedScanner();
    const buf = Buffer.from('3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n');
    expect(s.scan(buf, 0, buf.length)).toBe(buf.length);
    expect(s.bodyBytes).toBe(13);
  });
});
