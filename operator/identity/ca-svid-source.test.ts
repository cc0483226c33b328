import { randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaServer, type RunningCaServer } from '../../ca/api/ca-server.ts';
import { parseDnsAllowList } from '../../ca/api/dns-allow-list.ts';
import { CallerAuthenticator } from '../../ca/authn/caller-authenticator.ts';
import { JoinTokenStore } from '../../ca/authn/join-token-store.ts';
import { createTestCa, type TestCa } from '../../ca/testing/test-ca.ts';
import { keyRing, sealKeyFromBase64 } from '../../core/seal/seal-key.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startCaSvidSource } from './ca-svid-source.ts';

const TD = 'operator-svid.test';
const OPERATOR = `spiffe://${TD}/ns/ztmesh-system/sa/ztmesh-operator`;
const DNS = 'ztmesh-operator.ztmesh-system.svc';

describe('the operator\'s SVID and webhook certificate from the mesh CA', () => {
  let ca: TestCa;
  let server: RunningCaServer;
  let tokens: JoinTokenStore;
  let dir: string;
  let address: string;

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD });
    dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-svid-'));
    tokens = new JoinTokenStore({ file: join(dir, 'tokens.sealed'), ring: keyRing([sealKeyFromBase64(randomBytes(32).toString('base64'), 'test')]) });
    server = await startCaServer({
      authority: ca.authority, authenticator: new CallerAuthenticator({ authority: ca.authority, joinTokens: tokens }),
      listen: '127.0.0.1:0', logger: silentLogger(), audit: silentLogger(), dnsAllowList: parseDnsAllowList([`${OPERATOR}=${DNS}`]),
    });
    address = `127.0.0.1:${server.port}`;
    writeFileSync(join(dir, 'bundle.pem'), ca.bundlePem);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets a certificate with the Service DNS name that a kube-apiserver trusting the mesh bundle accepts', async () => {
    const { token } = await tokens.create(OPERATOR, 600_000);
    writeFileSync(join(dir, 'token'), `${token}\n`);
    const source = await startCaSvidSource({ address, tokenFile: join(dir, 'token'), bundleFile: join(dir, 'bundle.pem'), dnsNames: [DNS], logger: silentLogger() });
    try {
      const identity = source.current();
      expect(new X509Certificate(identity.certChainPem).subjectAltName).toBe(`URI:${OPERATOR}, DNS:${DNS}`);
      expect(identity.bundlePem).toBe(ca.bundlePem);
      const tls = createServer({ cert: identity.certChainPem, key: identity.keyPem }, (s) => s.end());
      tls.on('tlsClientError', () => undefined);
      tls.listen(0, '127.0.0.1');
      await once(tls, 'listening');
      const socket = connect({ host: '127.0.0.1', port: (tls.address() as AddressInfo).port, ca: identity.bundlePem, servername: DNS });
      socket.on('error', () => undefined);
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      socket.destroy();
      tls.close();
    } finally {
      source.close();
    }
  });

  it('fails to start with ZTMESH_CONTROL_IDENTITY_FAILED for a missing token file or a refused token', async () => {
    await expect(startCaSvidSource({ address, tokenFile: join(dir, 'missing'), bundleFile: join(dir, 'bundle.pem'), logger: silentLogger() }))
      .rejects.toMatchObject({ code: 'ZTMESH_CONTROL_IDENTITY_FAILED' });
    writeFileSync(join(dir, 'bad-token'), 'ztjt_forged');
    await expect(startCaSvidSource({ address, tokenFile: join(dir, 'bad-token'), bundleFile: join(dir, 'bundle.pem'), logger: silentLogger() }))
      .rejects.toMatchObject({ code: 'ZTMESH_CONTROL_IDENTITY_FAILED' });
  });

  it('renews after the configured fraction of its remaining lifetime and hands the new SVID over', async () => {
    const { token } = await tokens.create(OPERATOR, 600_000);
    writeFileSync(join(dir, 'token2'), token);
    // Join tokens are single-use: the renewal needs a fresh one in the file, as a rotated projected token would be.
    const renewed: string[] = [];
    const source = await startCaSvidSource({
      address, tokenFile: join(dir, 'token2'), bundleFile: join(dir, 'bundle.pem'), ttl: '40s', renewFraction: 0.05, logger: silentLogger(),
      onRenew: (i) => renewed.push(i.certChainPem), retryMs: { initial: 20, max: 50 },
    });
    try {
      const { token: next } = await tokens.create(OPERATOR, 600_000);
      writeFileSync(join(dir, 'token2'), next);
      const start = Date.now();
      while (renewed.length === 0) {
        if (Date.now() - start > 10_000) throw new Error('no renewal');
        await new Promise((r) => setTimeout(r, 20));
      }
      // 5% of the 40 s left: about 2 s.
      expect(Date.now() - start).toBeGreaterThanOrEqual(1500);
      expect(renewed[0]).not.toBe(source.first.certChainPem);
      expect(source.current().certChainPem).toBe(renewed[0]);
    } finally {
      source.close();
    }
  });
});
