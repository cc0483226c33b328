import type { RequestHead } from './request-head.ts';

/**
 * Connection management is hop by hop: an HTTP/1.0 client's connection closes after its response,
 * but the pooled connection upstream (to the app, or to the peer sidecar) asks to be kept alive,
 * as nginx's keep-alive upstreams do. Without it every HTTP/1.0 request (`openssl s_time`, many
 * health checkers) cost a new upstream connection. A response to HTTP/1.0 is never chunked, and
 * an upstream that does not keep the connection says so (the pool then drops it).
 */
const HTTP10_KEEP_ALIVE = 'Connection: keep-alive\r\n';

/**
 * The head to send upstream: a fresh request line with `target` (the normalized origin-form path),
 * every header line the client sent except those `parseRequestHead` marked to drop (hop-by-hop,
 * forged identity, tracing, request id), the upgrade headers again for an upgrade (else
 * `Connection: keep-alive` for HTTP/1.0), then `extra` (already `name: value\r\n` lines) and the
 * final CRLF. Header bytes are copied, not re-encoded.
 */
export function forwardRequestHead(head: RequestHead, target: string, extra: string): Buffer {
  let prefix = `${head.method} ${target} ${head.http10 ? 'HTTP/1.0' : 'HTTP/1.1'}\r\n`;
  if (head.isUpgrade()) prefix = `${prefix}Connection: upgrade\r\nUpgrade: ${head.upgrade}\r\n`;
  else if (head.http10) prefix = `${prefix}${HTTP10_KEEP_ALIVE}`;
  const suffix = `${extra}\r\n`;
  const { lineStart, drop, buf } = head;
  const n = lineStart.length;
  let size = Buffer.byteLength(prefix, 'latin1') + Buffer.byteLength(suffix, 'latin1');
  for (let k = 0; k < n; k++) if (!drop[k]) size += head.lineEnd(k) - lineStart[k]!;
  const out = Buffer.allocUnsafe(size);
  let o = out.write(prefix, 0, 'latin1');
  // Copy runs of consecutive kept lines at once.
  let k = 0;
  while (k < n) {
    if (drop[k]) {
      k++;
      continue;
    }
    const from = lineStart[k]!;
    while (k + 1 < n && !drop[k + 1]) k++;
    o += buf.copy(out, o, from, head.lineEnd(k));
    k++;
  }
  out.write(suffix, o, 'latin1');
  return out;
}
