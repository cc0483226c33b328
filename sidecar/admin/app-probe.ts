import { request } from 'node:http';
import type { AppProbeConfig } from '../config/load-sidecar-config.ts';

export interface ProbeResult {
  /** The app's status code, or undefined when it could not be reached in time. */
  readonly status: number | undefined;
  /** First bytes of the app's body (or the reason it failed), at most `maxBodyBytes`. */
  readonly body: string;
}

/**
 * Runs one plaintext HTTP GET against the app's probe endpoint, as the kubelet would have before
 * the injector moved the probe to the admin port. The body is cut at `maxBodyBytes`; the whole
 * exchange is bounded by `timeoutMs`. Never throws.
 */
export function probeApp(probe: AppProbeConfig, options: { timeoutMs: number; maxBodyBytes: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request({
      host: probe.host,
      port: probe.port,
      path: probe.path,
      method: 'GET',
      headers: { 'user-agent': 'ztmesh-sidecar-probe', connection: 'close' },
      agent: false,
    });
    const timer = setTimeout(() => finish({ status: undefined, body: `timeout after ${options.timeoutMs} ms` }), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: undefined, body: err.code ?? err.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('error', (err: NodeJS.ErrnoException) => finish({ status: undefined, body: err.code ?? err.message }));
      res.on('data', (chunk: Buffer) => {
        if (size < options.maxBodyBytes) chunks.push(chunk.subarray(0, options.maxBodyBytes - size));
        size += chunk.length;
        if (size >= options.maxBodyBytes) finish({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('end', () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end();
  });
}
