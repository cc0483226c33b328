import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../ca/testing/test-ca.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import { startCaIdentity, type CaIdentitySource, type RequestSvid } from './ca-identity-source.ts';
import { ExpiringCredentialsRef } from './expiring-credentials-ref.ts';
import { fakeBuildCredentials } from './fake-build-credentials.ts';
import { FakeScheduler } from './fake-scheduler.ts';
import { registerIdentityMetrics } from './identity-metrics.ts';

const ID = 'spiffe://example.org/ns/shop/sa/orders';
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-ca-identity-'));
const bundleFile = join(dir, 'bundle.pem');
const tokenFile = join(dir, 'token');
const sources: CaIdentitySource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
});

let ca: TestCa;
let sched: FakeScheduler;
beforeAll(async () => {
  sched = new FakeScheduler(Date.now());
  ca = await createTestCa({ trustDomain: 'example.org', clock: () => sched.now() });
  writeFileSync(bundleFile, ca.bundlePem);
});

type Call = { token?: string; current?: boolean };

/** A CA client backed by the in-memory test CA; `mode` simulates outages and refusals. */
function fakeCa() {
  const calls: Call[] = [];
  const state = { down: false, refuseSvid: false };
  const request: RequestSvid = async (opts) => {
    calls.push({ ...(opts.token !== undefined ? { token: opts.token } : {}), current: opts.current !== undefined });
    expect(opts.bundlePem).toBe(ca.bundlePem);
    if (state.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (opts.current !== undefined && state.refuseSvid) throw new MeshError('ZTMESH_CA_UNAUTHENTICATED', 'svid not accepted');
    if (opts.current === undefined && opts.token !== 'good-token') throw new MeshError('ZTMESH_CA_TOKEN_INVALID', 'bad token');
    const minted = await ca.mint({ spiffeId: ID, ttl: opts.ttl ?? '60s' });
    return { certChainPem: minted.certChainPem, privateKey: createPrivateKey(minted.keyPem), bundlePem: ca.bundlePem, spiffeId: ID, notBefore: minted.issued.notBefore, notAfter: minted.issued.notAfter };
  };
  return { calls, state, request };
}

function start(request: RequestSvid, logger = silentLogger()) {
  const credentials = new ExpiringCredentialsRef(() => sched.now());
  const registry = new Registry();
  const source = startCaIdentity({
    address: '127.0.0.1:1', bundleFile, tokenFile, caIdentity: undefined, ttl: '60s', trustDomain: 'example.org',
    credentials, build: fakeBuildCredentials, requestSvid: request, metrics: registerIdentityMetrics(registry, credentials), logger, scheduler: sched,
  });
  sources.push(source);
  return { credentials, registry, source };
}

/** Fires what is due after `ms` and waits until the attempt it started has scheduled the next one. */
async function advance(source: CaIdentitySource, ms: number): Promise<void> {
  sched.advance(ms);
  while (source.nextAttemptAt() === undefined) await new Promise((r) => setImmediate(r));
}

describe('startCaIdentity', () => {
  it('issues with the token, renews with the SVID at about half the lifetime', async () => {
    writeFileSync(tokenFile, 'good-token\n');
    const fake = fakeCa();
    const { credentials, registry, source } = start(fake.request);
    await source.firstAttempt;
    const first = credentials.current!;
    expect(first.identity).toBe(ID);
    expect(fake.calls).toEqual([{ token: 'good-token', current: false }]);
    // Counted from receipt, not from the back-dated notBefore (regression: 30s TTLs renewed in a loop).
    expect(first.notBefore).toBeLessThan(sched.now() - 10_000);
    const lifetime = first.notAfter - sched.now();
    const due = source.nextAttemptAt()! - sched.now();
    expect(due).toBeGreaterThanOrEqual(lifetime * 0.45);
    expect(due).toBeLessThanOrEqual(lifetime * 0.55);
    expect(registry.render()).toContain(`ztmesh_certificate_expiry_timestamp_seconds ${Math.floor(first.notAfter / 1000)}`);

    await advance(source, source.nextAttemptAt()! - sched.now());
    expect(fake.calls[1]).toEqual({ current: true });
    expect(credentials.current!.leaf.serialNumber).not.toBe(first.leaf.serialNumber);
    expect(registry.render()).toContain('ztmesh_identity_renewals_total{source="ca"} 2');
  });

  it('falls back to the token, re-read from disk, when the CA refuses the current SVID', async () => {
    writeFileSync(tokenFile, 'good-token');
    const fake = fakeCa();
    const { credentials, source } = start(fake.request);
    await source.firstAttempt;
    fake.state.refuseSvid = true;
    writeFileSync(tokenFile, 'good-token\n');
    const before = credentials.current!.leaf.serialNumber;
    await advance(source, source.nextAttemptAt()! - sched.now());
    expect(fake.calls.slice(1)).toEqual([{ current: true }, { token: 'good-token', current: false }]);
    expect(credentials.current!.leaf.serialNumber).not.toBe(before);
  });

  it('keeps serving while the CA is down, backs off up to the cap, fails closed at expiry, recovers', async () => {
    writeFileSync(tokenFile, 'good-token');
    const fake = fakeCa();
    const lines: { msg: string }[] = [];
    const capture = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(JSON.parse(chunk.toString()) as { msg: string }), cb()) });
    const { credentials, registry, source } = start(fake.request, pino({ level: 'info' }, capture));
    await source.firstAttempt;
    const held = credentials.current!;
    fake.state.down = true;
    await advance(source, source.nextAttemptAt()! - sched.now());
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const wait = source.nextAttemptAt()! - sched.now();
      delays.push(wait);
      if (sched.now() + wait >= held.notAfter) break;
      expect(credentials.current).toBe(held);
      await advance(source, wait);
    }
    // random() is 0.5: 0.75 × 1s, 2s, 4s, 8s, 16s, then the 30s cap.
    expect(delays.slice(0, 5)).toEqual([750, 1500, 3000, 6000, 12000]);
    expect(source.failures()).toBeGreaterThanOrEqual(5);
    expect(registry.render()).toMatch(/ztmesh_identity_renewal_failures_total\{source="ca",code="ECONNREFUSED"\} [5-9]/);

    expect(lines.filter((l) => l.msg.startsWith('SVID expired'))).toHaveLength(0);
    sched.advance(held.notAfter - sched.now() + 1);
    expect(credentials.current).toBeUndefined();
    expect(lines.filter((l) => l.msg.startsWith('SVID expired'))).toHaveLength(1);
    expect(credentials.latest).toBe(held);
    expect(registry.render()).toContain('ztmesh_certificate_expiry_timestamp_seconds 0');

    fake.state.down = false;
    await advance(source, Math.max(0, source.nextAttemptAt()! - sched.now()));
    expect(credentials.current).toBeDefined();
    expect(source.failures()).toBe(0);
    // After expiry the SVID can no longer authenticate: the token is used.
    expect(fake.calls.at(-1)).toEqual({ token: 'good-token', current: false });
  });

  it('retries a refused first issuance with backoff and no credentials', async () => {
    writeFileSync(tokenFile, 'wrong');
    const fake = fakeCa();
    const { credentials, source } = start(fake.request);
    await source.firstAttempt;
    expect(credentials.current).toBeUndefined();
    expect(source.nextAttemptAt()! - sched.now()).toBe(750);
    writeFileSync(tokenFile, 'good-token');
    await advance(source, 750);
    expect(credentials.current?.identity).toBe(ID);
  });
});
