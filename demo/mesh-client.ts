import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type MeshCall, meshCallsFrom, stringOrNull } from './mesh-call.ts';

const MAX_BODY = 64 * 1024;

export interface MeshClientOptions {
  /** The sidecar's outbound listener. */
  readonly outboundPort: number;
  readonly outboundHost?: string;
  readonly timeoutMs?: number;
}

/**
 * How a demo app calls another service: plaintext HTTP/1.1 to its own sidecar's outbound listener,
 * with the service name as the Host. The sidecar does the mTLS, the identity check and the routing.
 */
export class MeshClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 8 });
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;

  constructor(options: MeshClientOptions) {
    this.#host = options.outboundHost ?? '127.0.0.1';
    this.#port = options.outboundPort;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  call(to: string, method: string, path: string, body?: unknown): Promise<MeshCall> {
    const started = performance.now();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { host: to, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const result = (status: number | null, parsed: unknown, error: string | null): MeshCall => {
      const r = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
      const ok = status !== null && status >= 200 && status < 300;
      return {
        to,
        method,
        path,
        status,
        identity: stringOrNull(r['identity']),
        caller: stringOrNull(r['caller']),
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
        error: ok ? null : (error ?? errorCodeOf(r)),
        calls: meshCallsFrom(r['calls']),
      };
    };
    return new Promise((resolve) => {
      const req = request({ host: this.#host, port: this.#port, method, path, headers, agent: this.#agent, timeout: this.#timeoutMs });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(result(null, null, err.code ?? 'ECONNRESET')));
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', (err: NodeJS.ErrnoException) => resolve(result(null, null, err.code ?? 'ECONNRESET')));
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('end', () => resolve(result(res.statusCode ?? null, parseJson(Buffer.concat(chunks).toString('utf8')), null)));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The sidecar's stable error code from its JSON error body ({"error":{"code":...}} or {"code":...}). */
function errorCodeOf(body: Record<string, unknown>): string | null {
  const error = body['error'];
  if (error !== null && typeof error === 'object') {
    const code = (error as Record<string, unknown>)['code'];
    if (typeof code === 'string') return code;
  }
  if (typeof body['code'] === 'string') return body['code'];
  if (typeof error === 'string' && /^[A-Z0-9_]{3,100}$/.test(error)) return error;
  return null;
}
