import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyRing, sealKeyFromBase64 } from '../../core/seal/seal-key.ts';
import { createLogger, silentLogger } from '../../core/telemetry/logger.ts';
import { CallerAuthenticator } from '../authn/caller-authenticator.ts';
import { JoinTokenStore } from '../authn/join-token-store.ts';
import { requestSvid } from '../client/ca-client.ts';
import { createTestCa, type TestCa } from '../testing/test-ca.ts';
import { type RunningCaServer, startCaServer } from './ca-server.ts';
import { parseDnsAllowList } from './dns-allow-list.ts';

const TD = 'dns-allow.test';
const OPERATOR = `spiffe://${TD}/ns/ztmesh-system/sa/ztmesh-operator`;
const NAMES = ['ztmesh-operator.ztmesh-system.svc', 'ztmesh-operator.ztmesh-system.svc.cluster.local'];

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
}

async function grpcCodeOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return (err as { details?: { grpcCode?: number; serverCode?: string } }).details;
  }
  return 'no error';
}

describe('parseDnsAllowList', () => {
  it('maps SPIFFE IDs to exact DNS names; repeated entries add up', () => {
    const list = parseDnsAllowList([`${OPERATOR}=${NAMES[0]}`, `${OPERATOR}=${NAMES[1]},${NAMES[0]}`]);
    expect(list.get(OPERATOR)).toEqual(NAMES);
    expect(parseDnsAllowList([]).size).toBe(0);
  });

  it('refuses entries without a SPIFFE ID, wildcards, upper case and empty names', () => {
    for (const bad of ['no-equals', `=${NAMES[0]}`, `https://x=${NAMES[0]}`, `${OPERATOR}=*.svc`, `${OPERATOR}=Ztmesh.svc`, `${OPERATOR}=`, `${OPERATOR}=a,,b`, `${OPERATOR}=a..b`]) {
      expect(codeOf(() => parseDnsAllowList([bad])), bad).toBe('ZTMESH_CA_BAD_DNS_ALLOW_LIST');
    }
  });
});

describe('CA: DNS SANs only for the identities the allow-list names', () => {
  let ca: TestCa;
  let server: RunningCaServer;
  let tokens: JoinTokenStore;
  let address: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD });
    tokens = new JoinTokenStore({ file: join(mkdtempSync(join(tmpdir(), 'ztmesh-dns-allow-')), 'tokens.sealed'), ring: keyRing([sealKeyFromBase64(randomBytes(32).toString('base64'), 'test')]) });
    const audit = createLogger({
      name: 'audit', level: 'info',
      destination: new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } }),
    });
    server = await startCaServer({
      authority: ca.authority, authenticator: new CallerAuthenticator({ authority: ca.authority, joinTokens: tokens }),
      listen: '127.0.0.1:0', logger: silentLogger(), audit, dnsAllowList: parseDnsAllowList([`${OPERATOR}=${NAMES.join(',')}`]),
    });
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('issues the allowed identity its SPIFFE ID plus the DNS names it asked for, audit-logged', async () => {
    const { token } = await tokens.create(OPERATOR, 600_000);
    const svid = await requestSvid({ address, bundlePem: ca.bundlePem, token, dnsNames: NAMES });
    const leaf = new X509Certificate(svid.certChainPem);
    expect(leaf.subjectAltName).toBe(`URI:${OPERATOR}, DNS:${NAMES[0]}, DNS:${NAMES[1]}`);
    expect(svid.spiffeId).toBe(OPERATOR);
    expect(lines.find((l) => l['serial'] === leaf.serialNumber)).toMatchObject({ result: 'issued', dnsNames: NAMES });
  });

  it('issues no DNS SAN to the allowed identity when it asks for none', async () => {
    const { token } = await tokens.create(OPERATOR, 600_000);
    expect(new X509Certificate((await requestSvid({ address, bundlePem: ca.bundlePem, token })).certChainPem).subjectAltName).toBe(`URI:${OPERATOR}`);
  });

  it('refuses (PERMISSION_DENIED, audit-logged) a name outside the allowed identity\'s list, and any name for another identity', async () => {
    const { token } = await tokens.create(OPERATOR, 600_000);
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token, dnsNames: [NAMES[0]!, 'kubernetes.default.svc'] })))
      .toMatchObject({ grpcCode: status.PERMISSION_DENIED, serverCode: 'ZTMESH_CA_IDENTITY_MISMATCH' });
    const other = `spiffe://${TD}/ns/shop/sa/web`;
    const { token: otherToken } = await tokens.create(other, 600_000);
    expect(await grpcCodeOf(requestSvid({ address, bundlePem: ca.bundlePem, token: otherToken, dnsNames: [NAMES[0]!] })))
      .toMatchObject({ grpcCode: status.PERMISSION_DENIED, serverCode: 'ZTMESH_CA_IDENTITY_MISMATCH' });
    expect(lines.some((l) => l['result'] === 'refused' && l['spiffeId'] === other && l['code'] === 'ZTMESH_CA_IDENTITY_MISMATCH')).toBe(true);
  });
});
