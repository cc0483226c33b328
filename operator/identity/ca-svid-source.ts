import { readFile } from 'node:fs/promises';
import { requestSvid, type SvidResult } from '../../ca/client/ca-client.ts';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { PemIdentity } from '../distribute/mtls-server-credentials.ts';

export interface CaSvidSourceOptions {
  /** HOST:PORT of `ztmesh ca serve`. */
  readonly address: string;
  /** The projected ServiceAccount token (audience: the CA's); re-read before every request (the kubelet rotates it). */
  readonly tokenFile: string;
  /** The mesh trust bundle, PEM; re-read before every request. */
  readonly bundleFile: string;
  /** DNS SANs to ask for (the admission webhook's Service names; the CA must allow them for this identity). */
  readonly dnsNames?: readonly string[];
  /** Requested lifetime like `1h`; the CA's default when absent. */
  readonly ttl?: string;
  readonly logger: Logger;
  /** Called with each renewed SVID (not the first one, which `start` returns). */
  readonly onRenew?: (identity: PemIdentity) => void;
  readonly retryMs?: { readonly initial: number; readonly max: number };
  /** Renew after this fraction of the remaining lifetime (default 0.5). */
  readonly renewFraction?: number;
}

export interface CaSvidSource {
  readonly first: PemIdentity;
  /** The newest SVID (with the bundle file as read for it). */
  current(): PemIdentity;
  close(): void;
}

function pem(svid: SvidResult, bundlePem: string): PemIdentity {
  return { certChainPem: svid.certChainPem, keyPem: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), bundlePem };
}

async function fetchOnce(o: CaSvidSourceOptions): Promise<{ identity: PemIdentity; svid: SvidResult }> {
  let token: string;
  let bundlePem: string;
  try {
    [token, bundlePem] = await Promise.all([readFile(o.tokenFile, 'utf8'), readFile(o.bundleFile, 'utf8')]);
  } catch (err) {
    throw new MeshError('ZTMESH_CONTROL_IDENTITY_FAILED', `cannot read the CA token or bundle file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const svid = await requestSvid({ address: o.address, bundlePem, token: token.trim(), ...(o.dnsNames !== undefined ? { dnsNames: o.dnsNames } : {}), ...(o.ttl !== undefined ? { ttl: o.ttl } : {}) });
    return { identity: pem(svid, bundlePem), svid };
  } catch (err) {
    throw new MeshError('ZTMESH_CONTROL_IDENTITY_FAILED', `the CA at ${o.address} did not issue the operator's SVID`, { cause: err, details: { caCode: errorCode(err) } });
  }
}

/**
 * The operator's own SVID from the mesh CA, authenticated by its projected ServiceAccount token
 * (the same path as a sidecar's): the first one before `start` resolves, then renewed at half its
 * lifetime; a failed renewal is retried with jittered exponential backoff while the current SVID
 * keeps serving.
 */
export async function startCaSvidSource(o: CaSvidSourceOptions): Promise<CaSvidSource> {
  const retry = o.retryMs ?? { initial: 1000, max: 30_000 };
  const first = await fetchOnce(o);
  let latest = first.identity;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failures = 0;
  const schedule = (svid: SvidResult): void => {
    // A fraction of the remaining lifetime (notBefore is back-dated, so it is not the start).
    const delay = Math.max(1000, (svid.notAfter - Date.now()) * (o.renewFraction ?? 0.5));
    timer = setTimeout(() => void renew(svid), Math.min(delay, 2 ** 31 - 1));
    timer.unref();
  };
  const renew = async (current: SvidResult): Promise<void> => {
    if (closed) return;
    try {
      const next = await fetchOnce(o);
      if (closed) return;
      failures = 0;
      latest = next.identity;
      o.onRenew?.(next.identity);
      o.logger.info({ spiffeId: next.svid.spiffeId, notAfter: new Date(next.svid.notAfter).toISOString() }, 'operator SVID renewed from the CA');
      schedule(next.svid);
    } catch (err) {
      failures += 1;
      const wait = Math.min(retry.max, retry.initial * 2 ** Math.min(failures - 1, 16)) * (0.5 + Math.random() / 2);
      o.logger.warn({ code: errorCode(err), retryInMs: Math.round(wait) }, 'renewing the operator SVID failed; keeping the current one');
      timer = setTimeout(() => void renew(current), wait);
      timer.unref();
    }
  };
  schedule(first.svid);
  return {
    first: first.identity,
    current: () => latest,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
