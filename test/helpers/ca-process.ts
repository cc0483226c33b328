import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZtmeshProcess } from './sidecar-process.ts';

/** A real `ztmesh ca` directory and (once `serve` is called) a `ztmesh ca serve` process on loopback. */
export class CaProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'ztmesh-ca-process-'));
  readonly env = { ZTMESH_SEAL_KEY: randomBytes(32).toString('base64') };
  readonly trustDomain: string;
  server: ZtmeshProcess | undefined;
  address = '';

  constructor(trustDomain: string) {
    this.trustDomain = trustDomain;
  }

  async #run(args: string[]): Promise<string> {
    const proc = new ZtmeshProcess(args, this.env);
    const code = await proc.exited;
    if (code !== 0) throw new Error(`ztmesh ${args.join(' ')} exited ${code}: ${proc.stderr}`);
    return proc.logs.map((l) => l.msg ?? '').join('\n');
  }

  init(): Promise<string> {
    return this.#run(['ca', 'init', '--trust-domain', this.trustDomain, '--dir', this.dir]);
  }

  /** The trust bundle the CA directory keeps in the clear (what `ztmesh ca bundle` prints). */
  get bundleFile(): string {
    return join(this.dir, 'bundle.pem');
  }

  async token(spiffeId: string): Promise<string> {
    return (await this.#run(['ca', 'token', 'create', '--dir', this.dir, '--spiffe-id', spiffeId, '--ttl', '10m'])).trim();
  }

  /** Mints an SVID to files (for a peer that should not depend on this CA staying up). */
  mint(spiffeId: string, cert: string, key: string, ttl = '1h'): Promise<string> {
    return this.#run(['ca', 'mint', '--dir', this.dir, '--spiffe-id', spiffeId, '--ttl', ttl, '--cert', cert, '--key', key]);
  }

  async serve(extra: string[] = []): Promise<string> {
    this.server = new ZtmeshProcess(['ca', 'serve', '--dir', this.dir, '--listen', '127.0.0.1:0', ...extra], this.env);
    const server = this.server;
    const line = await server.waitForLog((l) => l.msg === 'CA serving', 45_000).catch(async (err: unknown) => {
      await server.stop('SIGKILL');
      throw err;
    });
    this.address = `127.0.0.1:${line['port'] as number}`;
    return this.address;
  }
}
