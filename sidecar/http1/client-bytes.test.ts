import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP1_LIMITS } from './limits.ts';
import { ClientBytes } from './client-bytes.ts';
import { RequestHead } from './request-head.ts';

describe('ClientBytes', () => {
  it('assembles a head sent byte by byte, then yields pipelined heads in order', () => {
    const input = new ClientBytes();
    const text = 'GET /a HTTP/1.1\r\nHost: o\r\n\r\nGET /b HTTP/1.1\r\nHost: o\r\n\r\n';
    let head: unknown;
    for (let i = 0; i < 28; i++) {
      input.append(Buffer.from(text[i]!, 'latin1'));
      head = input.nextHead(DEFAULT_HTTP1_LIMITS, false);
      if (i < 27) expect(head).toBeUndefined();
    }
    expect((head as RequestHead).target).toBe('/a');
    input.append(Buffer.from(text.slice(28), 'latin1'));
    expect((input.nextHead(DEFAULT_HTTP1_LIMITS, false) as RequestHead).target).toBe('/b');
    expect(input.isEmpty()).toBe(true);
  });

  it('refuses a head cut off by the end of the connection', () => {
    const input = new ClientBytes();
    input.append(Buffer.from('GET / HTTP/1.1\r\nHo'));
    expect(input.nextHead(DEFAULT_HTTP1_LIMITS, true)).toMatchObject({ code: 'ZTMESH_SIDECAR_BAD_REQUEST_LINE' });
  });

  it('keeps bytes after a body and hands them over once', () => {
    const input = new ClientBytes();
    const buf = Buffer.from('bodyNEXT');
    input.keep(buf, 4);
    expect(input.size()).toBe(4);
    expect(input.take()!.toString()).toBe('NEXT');
    expect(input.take()).toBeNull();
  });
});
