import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { GRPC_ECHO_PATH, GRPC_PAYLOAD, grpcFrame } from './grpc-request.ts';
import type { LeafFiles } from './pki.ts';

/** The authority every client request carries: the ztmesh outbound sidecar routes by it to service `app`. */
export const APP_AUTHORITY = 'app';

const TIMEOUT_MS = 5000;

/** One HTTP/1.1 GET through a contender; resolves to the response size, or rejects naming what was wrong. */
export function checkHttp1(port: number, path: string, expectedBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: APP_AUTHORITY }, timeout: TIMEOUT_MS, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode} (${bytes} bytes)`));
        else if (bytes !== expectedBytes) reject(new Error(`GET ${path} returned ${bytes} bytes, expected ${expectedBytes}`));
        else resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** One h2c request (prior knowledge) through a contender: GET `path`, or a gRPC Echo call when `grpc`. */
export function checkH2(port: number, path: string, grpc: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`http://127.0.0.1:${port}`);
    const what = grpc ? `gRPC ${GRPC_ECHO_PATH}` : `h2c GET ${path}`;
    const fail = (err: Error): void => {
      session.destroy();
      reject(new Error(`${what} (HTTP/2 prior knowledge): ${err.message}`, { cause: err }));
    };
    session.on('error', fail);
    session.setTimeout(TIMEOUT_MS, () => fail(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    const headers = grpc
      ? { ':method': 'POST', ':path': GRPC_ECHO_PATH, ':authority': APP_AUTHORITY, 'content-type': 'application/grpc', te: 'trailers' }
      : { ':method': 'GET', ':path': path, ':authority': APP_AUTHORITY };
    const stream = session.request(headers);
    let status = 0;
    let grpcStatus: string | undefined;
    let body = Buffer.alloc(0);
    stream.on('response', (h) => {
      status = Number(h[':status']);
      if (typeof h['grpc-status'] === 'string') grpcStatus = h['grpc-status'];
    });
    stream.on('trailers', (t) => {
      if (typeof t['grpc-status'] === 'string') grpcStatus = t['grpc-status'];
    });
    stream.on('data', (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]);
    });
    stream.on('error', fail);
    stream.on('end', () => {
      session.close();
      if (status !== 200) reject(new Error(`h2 ${grpc ? GRPC_ECHO_PATH : path} answered ${status}`));
      else if (grpc && grpcStatus !== '0') reject(new Error(`gRPC Echo ended with grpc-status ${grpcStatus ?? '(none)'}`));
      else if (grpc && !body.equals(grpcFrame(GRPC_PAYLOAD))) reject(new Error(`gRPC Echo returned ${body.length} unexpected bytes`));
      else resolve();
    });
    stream.end(grpc ? grpcFrame(GRPC_PAYLOAD) : undefined);
  });
}

/**
 * One GET over mTLS 1.3 straight to a server-side proxy, exactly as openssl s_time -www sends it
 * (client SVID, no ALPN, `GET path HTTP/1.0` and no headers): proves the handshake scenario measures
 * served requests, not refusals.
 */
export function checkMtlsHttp1(port: number, path: string, client: LeafFiles, bundleFile: string, serverId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1', port, servername: 'server', minVersion: 'TLSv1.3',
      cert: readFileSync(client.certFile), key: readFileSync(client.keyFile), ca: readFileSync(bundleFile),
      checkServerIdentity: (_host, cert) => (cert.subjectaltname === `URI:${serverId}` ? undefined : new Error(`server certificate is not ${serverId}`)),
    });
    let head = '';
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`mTLS GET ${path}: no answer within ${TIMEOUT_MS} ms`)));
    socket.on('error', reject);
    socket.on('secureConnect', () => socket.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (head.length < 200) head += chunk.toString('latin1');
    });
    socket.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      if (status === '200') resolve();
      else reject(new Error(`mTLS GET ${path} straight to the server side: ${status === undefined ? 'connection closed without a response' : `answered ${status}`}`));
    });
  });
}

/**
 * Sends `total` GETs over `concurrency` keep-alive connections and tallies the answers by status (or
 * error code): a diagnostic after a run with failures, naming what the failures were.
 */
export async function tallyHttp1(port: number, path: string, total: number, concurrency: number): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (): Promise<void> => new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: APP_AUTHORITY }, agent, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => {
        const key = String(res.statusCode);
        tally[key] = (tally[key] ?? 0) + 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const key = err.code ?? err.message;
      tally[key] = (tally[key] ?? 0) + 1;
      resolve();
    });
    req.end();
  });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      await one();
    }
  }));
  agent.destroy();
  return tally;
}
