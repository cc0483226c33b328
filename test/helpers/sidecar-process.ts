import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCa } from '../../ca/testing/test-ca.ts';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ZTMESH_BIN = fileURLToPath(new URL('../../bin/ztmesh.js', import.meta.url));

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

const running = new Set<ZtmeshProcess>();

/** Kills every ztmesh child this test file started and still runs (for afterAll, whatever failed). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}

/**
 * A running `node bin/ztmesh.js ...` child: its JSON log lines (stdout) collected, waitable by
 * predicate, and its exit awaited. Ports come from its own log lines (listeners bind port 0).
 */
export class ZtmeshProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly #waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [ZTMESH_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        running.delete(this);
        resolve(code);
      }),
    );
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        this.logs.push(line);
        for (const w of [...this.#waiters]) {
          if (w.pred(line)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
  }

  /** The first log line (past or future) matching `pred`; rejects if the process exits first or after `timeoutMs`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 20_000, from = 0): Promise<LogLine> {
    const seen = this.logs.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms; stderr: ${this.stderr}\nlogs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
      void this.exited.then((code) => reject(new Error(`process exited (${code}) before the log line; stderr: ${this.stderr}\nlogs: ${this.logs.map((l) => JSON.stringify(l)).join('\n')}`)));
      this.#waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface SidecarAddresses {
  readonly admin: string;
  readonly inbound: string;
  readonly outbound: string;
}

/** Starts `ztmesh sidecar --config FILE` and resolves once it logged "sidecar serving" with its bound addresses. */
export async function startSidecar(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<{ proc: ZtmeshProcess; addr: SidecarAddresses }> {
  const proc = new ZtmeshProcess(['sidecar', '--config', configFile], env);
  const line = await proc.waitForLog((l) => l.msg === 'sidecar serving', 45_000).catch(async (err: unknown) => {
    await proc.stop('SIGKILL');
    throw err;
  });
  return { proc, addr: { admin: line['admin'] as string, inbound: line['inbound'] as string, outbound: line['outbound'] as string } };
}

export function yaml(value: unknown): string {
  return stringify(value);
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One plaintext HTTP/1.1 request (to an admin port, or through an outbound listener with `host`). */
export function httpGet(address: string, path: string, options: { host?: string; agent?: import('node:http').Agent | false; method?: string; body?: string } = {}): Promise<HttpResult> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address.slice(0, colon).replace(/^\[|\]$/g, ''),
        port: Number(address.slice(colon + 1)),
        path,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: options.host !== undefined ? { host: options.host } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls GET /ready until its status is `status` (the admin port has no push channel). */
export async function waitForReady(admin: string, status = 200, timeoutMs = 20_000): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await httpGet(admin, '/ready').catch(() => undefined);
    if (res !== undefined && res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`/ready did not answer ${status} within ${timeoutMs} ms (last: ${res?.status} ${res?.body})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of one metric series in Prometheus text, or undefined. */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Mints an SVID for `spiffeId` and writes it as a sidecar's identity files in `dir` (the bundle shared by all). */
export async function writeIdentityFiles(ca: TestCa, dir: string, name: string, spiffeId: string): Promise<{ certFile: string; keyFile: string; bundleFile: string }> {
  const m = await ca.mint({ spiffeId });
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}-key.pem`), bundleFile: join(dir, 'bundle.pem') };
  writeFileSync(files.bundleFile, ca.bundlePem);
  writeFileSync(files.keyFile, m.keyPem);
  writeFileSync(files.certFile, m.certChainPem);
  return files;
}

/** Writes `dir/<name>.yaml`: a sidecar config with test defaults (admin on port 0) under `body`. */
export function writeSidecarConfig(dir: string, trustDomain: string, name: string, body: Record<string, unknown>, drainGracePeriod: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml({ trustDomain, admin: '127.0.0.1:0', logLevel: 'info', drainGracePeriod, ...body }));
  return file;
}
