import { execFile } from 'node:child_process';
import type { LoadResult } from './load-result.ts';
import type { LeafFiles } from './pki.ts';

/** `N connections in Xs; ...` and `..., B bytes read per connection` from openssl s_time's output. */
export function parseSTimeOutput(stdout: string): { connections: number; bytesPerConnection: number } {
  const conns = /(\d+) connections in [\d.]+s;/.exec(stdout);
  const bytes = /(\d+) bytes read per connection/.exec(stdout);
  if (conns === null) throw new Error(`unexpected openssl s_time output: ${stdout.slice(-300)}`);
  return { connections: Number(conns[1]), bytesPerConnection: bytes === null ? 0 : Number(bytes[1]) };
}

/**
 * Runs `openssl s_time -new` for `seconds` against an mTLS port: every connection is a full TLS 1.3
 * handshake with our client SVID, then one `GET path HTTP/1.0`. One connection at a time. Gives
 * handshakes per second; s_time reports no latency distribution (percentiles are NaN).
 */
export function runSTime(port: number, seconds: number, client: LeafFiles, bundleFile: string, path: string): Promise<LoadResult> {
  const args = [
    's_time', '-connect', `127.0.0.1:${port}`, '-new', '-tls1_3', '-cert', client.certFile, '-key', client.keyFile,
    '-CAfile', bundleFile, '-time', String(seconds), '-www', path,
  ];
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: (seconds + 20) * 1000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`openssl s_time failed: ${stderr.trim().split('\n').slice(-2).join(' ') || err.message}`, { cause: err }));
        return;
      }
      try {
        const { connections, bytesPerConnection } = parseSTimeOutput(stdout);
        if (connections === 0 || bytesPerConnection === 0) {
          reject(new Error(`openssl s_time completed no request (${connections} connections, ${bytesPerConnection} bytes each): ${stderr.trim().split('\n').slice(-2).join(' ')}`));
          return;
        }
        resolve({
          requests: connections, durationSeconds: seconds, bytes: connections * bytesPerConnection, errors: 0,
          requestsPerSecond: connections / seconds, megabytesPerSecond: (connections * bytesPerConnection) / seconds / 1e6,
          latencyMs: { p50: Number.NaN, p99: Number.NaN, p999: Number.NaN },
        });
      } catch (parseErr) {
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
      }
    });
  });
}
