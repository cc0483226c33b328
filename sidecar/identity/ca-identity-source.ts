import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errorCode, isMeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { BuildCredentials } from './build-credentials-fn.ts';
import type { ExpiringCredentialsRef } from './expiring-credentials-ref.ts';
import type { IdentityMetrics } from './identity-metrics.ts';
import { backoffDelay, renewalAt, type BackoffPolicy, DEFAULT_BACKOFF } from './renewal-schedule.ts';

/** The CA client's `requestSvid` (ca/client/ca-client.ts), passed in so the lifecycle is testable. */
export type RequestSvid = (opts: {
  address: string;
  bundlePem: string;
  caIdentity?: string;
  token?: string;
  current?: { certChainPem: string; privateKey: KeyObject };
  ttl?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}) => Promise<{ certChainPem: string; privateKey: KeyObject; bundlePem: string; spiffeId: string; notBefore: number; notAfter: number }>;

/** Timers and randomness, injected so tests drive renewal and backoff deterministically. */
export interface Scheduler {
  now(): number;
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: Date.now,
  random: Math.random,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface CaIdentityOptions {
  /** host:port of the CA. */
  readonly address: string;
  readonly bundleFile: string;
  readonly tokenFile: string;
  readonly caIdentity: SpiffeId | undefined;
  readonly ttl: string | undefined;
  readonly trustDomain: string;
  readonly credentials: ExpiringCredentialsRef;
  readonly build: BuildCredentials;
  readonly requestSvid: RequestSvid;
  readonly metrics: IdentityMetrics;
  readonly logger: Logger;
  readonly scheduler?: Scheduler;
  readonly backoff?: BackoffPolicy;
  /** Per-attempt deadline (default 10 s). */
  readonly timeoutMs?: number;
}

export interface CaIdentitySource {
  /** Settles after the first issuance attempt (success or failure; failures are retried in the background). */
  readonly firstAttempt: Promise<void>;
  /** When the next attempt is due (ms since epoch), undefined while one runs or after close. */
  nextAttemptAt(): number | undefined;
  /** Consecutive failures since the last success. */
  failures(): number;
  close(): void;
}

/** Codes and gRPC statuses that mean "the CA answered no", as opposed to "the CA could not be reached". */
const REFUSAL_CODES = new Set(['ZTMESH_CA_UNAUTHENTICATED', 'ZTMESH_CA_BAD_SVID', 'ZTMESH_CA_IDENTITY_MISMATCH', 'ZTMESH_CA_TOKEN_INVALID']);
const REFUSAL_GRPC = new Set([7, 16]); // PERMISSION_DENIED, UNAUTHENTICATED

function isRefusal(err: unknown): boolean {
  if (REFUSAL_CODES.has(errorCode(err))) return true;
  if (isMeshError(err) && err.details !== undefined) {
    const status = err.details['grpcCode'] ?? err.details['grpcStatus'];
    if (typeof status === 'number' && REFUSAL_GRPC.has(status)) return true;
    if (typeof err.details['serverCode'] === 'string' && REFUSAL_CODES.has(err.details['serverCode'])) return true;
  }
  return false;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/**
 * This workload's identity from the mesh CA. The private key is generated in memory by the CA
 * client and never written. First issuance authenticates with the token file (re-read on every
 * attempt: kubelet rotates projected tokens); renewals at ~50% of the lifetime (±10%) authenticate
 * with the current SVID, falling back to the token if the CA refuses it. A failed attempt is retried
 * with capped exponential backoff and jitter while the valid SVID keeps serving; once it expires,
 * the credentials read as none (fail closed, not ready) until an issuance succeeds.
 */
export function startCaIdentity(o: CaIdentityOptions): CaIdentitySource {
  const sched = o.scheduler ?? realScheduler;
  const log = o.logger.child({ component: 'identity', source: 'ca', ca: o.address });
  let currentKey: KeyObject | undefined;
  let failures = 0;
  let timer: unknown;
  let expiryTimer: unknown;
  let dueAt: number | undefined;
  let abort: AbortController | undefined;
  let closed = false;

  const request = (bundlePem: string, auth: { token: string } | { current: { certChainPem: string; privateKey: KeyObject } }, signal: AbortSignal) =>
    o.requestSvid({
      address: o.address,
      bundlePem,
      ...(o.caIdentity !== undefined ? { caIdentity: o.caIdentity } : {}),
      ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
      ...auth,
      signal,
      timeoutMs: o.timeoutMs ?? 10_000,
    });

  async function issueWithToken(bundlePem: string, signal: AbortSignal) {
    const token = (await readFile(o.tokenFile, 'utf8')).trim();
    return request(bundlePem, { token }, signal);
  }

  async function attempt(): Promise<void> {
    dueAt = undefined;
    abort = new AbortController();
    const signal = abort.signal;
    const held = o.credentials.current;
    try {
      const bundlePem = await readFile(o.bundleFile, 'utf8');
      let issued;
      if (held !== undefined && currentKey !== undefined) {
        try {
          issued = await request(bundlePem, { current: { certChainPem: held.certChainPem, privateKey: currentKey } }, signal);
        } catch (err) {
          if (!isRefusal(err) || closed) throw err;
          log.warn({ code: errorCode(err), reason: messageOf(err) }, 'CA refused renewal with the current SVID; retrying with the token');
          issued = await issueWithToken(bundlePem, signal);
        }
      } else {
        issued = await issueWithToken(bundlePem, signal);
      }
      if (closed) return;
      const next = o.build({ certChainPem: issued.certChainPem, privateKey: issued.privateKey, bundlePem: issued.bundlePem, trustDomain: o.trustDomain });
      o.credentials.swap(next);
      currentKey = issued.privateKey;
      watchExpiry(next);
      failures = 0;
      o.metrics.renewals.labels('ca').inc();
      const now = sched.now();
      const at = renewalAt(next.notBefore, next.notAfter, now, sched.random());
      log.info(
        { spiffeId: next.identity, serial: next.leaf.serialNumber, notAfter: new Date(next.notAfter).toISOString(), renewAt: new Date(at).toISOString(), renewedWith: held === undefined ? 'token' : 'svid' },
        held === undefined ? 'identity issued by the CA' : 'identity renewed',
      );
      schedule(at - now);
    } catch (err) {
      if (closed) return;
      const code = errorCode(err);
      o.metrics.failures.labels('ca', code).inc();
      const delay = backoffDelay(failures, sched.random(), o.backoff ?? DEFAULT_BACKOFF);
      failures++;
      const latest = o.credentials.latest;
      const valid = o.credentials.current !== undefined;
      log[valid ? 'warn' : 'error'](
        {
          code,
          reason: messageOf(err),
          attempt: failures,
          retryInMs: delay,
          ...(latest !== undefined ? { notAfter: new Date(latest.notAfter).toISOString() } : {}),
        },
        valid ? 'SVID renewal failed; serving on the current certificate' : 'no valid SVID: refusing connections until the CA issues one',
      );
      schedule(delay);
    } finally {
      abort = undefined;
    }
  }

  /** Logs the moment the SVID in use expires without a successor (the credentials then read as none). */
  function watchExpiry(svid: NonNullable<typeof o.credentials.latest>): void {
    if (expiryTimer !== undefined) sched.clearTimeout(expiryTimer);
    expiryTimer = sched.setTimeout(() => {
      expiryTimer = undefined;
      if (o.credentials.latest !== svid || closed) return;
      log.error({ serial: svid.leaf.serialNumber, notAfter: new Date(svid.notAfter).toISOString(), failures }, 'SVID expired: refusing new connections until the CA issues a new one');
    }, Math.max(0, svid.notAfter - sched.now()));
  }

  function schedule(ms: number): void {
    if (closed) return;
    const delay = Math.max(0, ms);
    dueAt = sched.now() + delay;
    timer = sched.setTimeout(() => {
      timer = undefined;
      void attempt();
    }, delay);
  }

  const firstAttempt = attempt();
  return {
    firstAttempt,
    nextAttemptAt: () => dueAt,
    failures: () => failures,
    close() {
      closed = true;
      dueAt = undefined;
      if (timer !== undefined) sched.clearTimeout(timer);
      if (expiryTimer !== undefined) sched.clearTimeout(expiryTimer);
      abort?.abort();
    },
  };
}
