import { readFile } from 'node:fs/promises';
import type { Logger } from '../../core/telemetry/logger.ts';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { watchAndReload } from '../config/file-watch.ts';
import type { BuildCredentials } from './build-credentials-fn.ts';
import type { ExpiringCredentialsRef } from './expiring-credentials-ref.ts';
import type { IdentityMetrics } from './identity-metrics.ts';

export interface FileIdentityOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile: string;
  readonly trustDomain: string;
  readonly credentials: ExpiringCredentialsRef;
  readonly build: BuildCredentials;
  readonly metrics: IdentityMetrics;
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export interface FileIdentitySource {
  /** Re-reads the files now (also what the watcher does on a change). True when new credentials were swapped in. */
  reload(): Promise<boolean>;
  close(): void;
}

/**
 * Serves the SVID that another agent (cert-manager csi-driver-spiffe, a SPIRE agent) writes to
 * files: loads them, builds credentials, and swaps them in; reloads when the files change. A bad
 * or half-written new set keeps the credentials in use (logged, counted); a missing set at start
 * leaves the sidecar without credentials (not ready) until valid files appear.
 */
export async function startFileIdentity(o: FileIdentityOptions): Promise<FileIdentitySource> {
  const files = [o.certFile, o.keyFile, o.bundleFile];
  const log = o.logger.child({ component: 'identity', source: 'files' });

  async function load(): Promise<boolean> {
    try {
      const [certChainPem, keyPem, bundlePem] = await Promise.all(files.map((f) => readFile(f, 'utf8')));
      const next = o.build({ certChainPem: certChainPem!, privateKey: keyPem!, bundlePem: bundlePem!, trustDomain: o.trustDomain });
      const previous = o.credentials.latest;
      if (previous !== undefined && previous.certChainPem === next.certChainPem && previous.bundlePem === next.bundlePem) return false;
      o.credentials.swap(next);
      o.metrics.renewals.labels('files').inc();
      log.info({ spiffeId: next.identity, serial: next.leaf.serialNumber, notAfter: new Date(next.notAfter).toISOString() }, 'identity loaded from files');
      return true;
    } catch (err) {
      const code = errorCode(err);
      o.metrics.failures.labels('files', code).inc();
      const keeping = o.credentials.latest !== undefined;
      log.error({ code, err: { message: err instanceof Error ? err.message : String(err) }, files }, keeping ? 'identity files invalid; keeping the credentials in use' : 'identity files invalid; no credentials yet');
      return false;
    }
  }

  return watchAndReload(files, load, (err) => log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'file watch failed; relying on polling'), {
    debounceMs: o.debounceMs,
    pollMs: o.pollMs,
  });
}
