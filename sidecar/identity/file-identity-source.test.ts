import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../ca/testing/test-ca.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import type { Credentials } from '../tls/credentials.ts';
import { ExpiringCredentialsRef } from './expiring-credentials-ref.ts';
import { fakeBuildCredentials } from './fake-build-credentials.ts';
import { startFileIdentity, type FileIdentitySource } from './file-identity-source.ts';
import { registerIdentityMetrics } from './identity-metrics.ts';

const ID = 'spiffe://example.org/ns/shop/sa/orders';
let ca: TestCa;
beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'example.org' });
});
const open: FileIdentitySource[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** Writes like an agent does: to a temp name, then renamed over the target (atomic). */
function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-file-identity-'));
  const files = { certFile: join(dir, 'svid.pem'), keyFile: join(dir, 'svid-key.pem'), bundleFile: join(dir, 'bundle.pem') };
  const credentials = new ExpiringCredentialsRef();
  const registry = new Registry();
  const start = () =>
    startFileIdentity({ ...files, trustDomain: 'example.org', credentials, build: fakeBuildCredentials, metrics: registerIdentityMetrics(registry, credentials), logger: silentLogger(), debounceMs: 20 }).then((s) => {
      open.push(s);
      return s;
    });
  const writeSvid = async () => {
    const m = await ca.mint({ spiffeId: ID });
    atomicWrite(files.bundleFile, ca.bundlePem);
    atomicWrite(files.keyFile, m.keyPem);
    atomicWrite(files.certFile, m.certChainPem);
    return m;
  };
  return { files, credentials, registry, start, writeSvid };
}

function nextSwap(credentials: ExpiringCredentialsRef): Promise<Credentials> {
  return new Promise((resolve) => credentials.onSwap(resolve));
}

describe('startFileIdentity', () => {
  it('loads the files, then swaps in a new SVID when they are atomically replaced', async () => {
    const t = await setup();
    const first = await t.writeSvid();
    await t.start();
    expect(t.credentials.current?.leaf.serialNumber).toBe(first.issued.serial);
    const swapped = nextSwap(t.credentials);
    const second = await t.writeSvid();
    expect((await swapped).leaf.serialNumber).toBe(second.issued.serial);
    expect(t.registry.render()).toContain('ztmesh_identity_renewals_total{source="files"} 2');
  });

  it('keeps the credentials in use when a new file is bad, and counts it', async () => {
    const t = await setup();
    const first = await t.writeSvid();
    const source = await t.start();
    atomicWrite(t.files.certFile, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    expect(await source.reload()).toBe(false);
    expect(t.credentials.current?.leaf.serialNumber).toBe(first.issued.serial);
    expect(t.registry.render()).toMatch(/ztmesh_identity_renewal_failures_total\{source="files",code="[A-Z0-9_]+"\} [1-9]/);
  });

  it('starts without credentials when the files are missing, and picks them up when they appear', async () => {
    const t = await setup();
    const source = await t.start();
    expect(t.credentials.current).toBeUndefined();
    const swapped = nextSwap(t.credentials);
    const m = await t.writeSvid();
    await source.reload();
    expect((await swapped).leaf.serialNumber).toBe(m.issued.serial);
  });
});
