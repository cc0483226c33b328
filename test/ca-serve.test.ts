import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestSvid } from '../ca/client/ca-client.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/ztmesh.js', import.meta.url));
const TD = 'integration.test';

describe('ztmesh ca serve as a real process', () => {
  const work = mkdtempSync(join(tmpdir(), 'ztmesh-ca-it-'));
  const dir = join(work, 'ca');
  const env = { ...process.env, ZTMESH_SEAL_KEY: randomBytes(32).toString('base64'), ZTMESH_LOG_LEVEL: 'info' };
  const logLines: Record<string, unknown>[] = [];
  let child: ChildProcess;
  let address: string;
  let bundlePem: string;

  const ztmesh = (...args: string[]) => run(process.execPath, [BIN, ...args], { env });

  beforeAll(async () => {
    await ztmesh('ca', 'init', '--trust-domain', TD, '--dir', dir);
    bundlePem = (await ztmesh('ca', 'bundle', '--dir', dir)).stdout;
    writeFileSync(join(work, 'bundle.pem'), bundlePem);
    child = spawn(process.execPath, [BIN, 'ca', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--min-ttl', '1m'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`ca serve exited with ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logLines.push(entry);
        if (entry['event'] === 'ca.listening') resolve(entry['port'] as number);
      });
    });
    address = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('issues an SVID over gRPC+TLS for a join token; X509Certificate and openssl verify accept it', async () => {
    const spiffeId = `spiffe://${TD}/ns/shop/sa/checkout`;
    const token = (await ztmesh('ca', 'token', 'create', '--dir', dir, '--spiffe-id', spiffeId, '--ttl', '10m')).stdout.trim();
    const svid = await requestSvid({ address, bundlePem, token, ttl: '2m' });
    expect(svid.spiffeId).toBe(spiffeId);

    const leaf = new X509Certificate(svid.certChainPem);
    expect(leaf.subjectAltName).toBe(`URI:${spiffeId}`);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkPrivateKey(svid.privateKey)).toBe(true);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(2 * 60_000 + 30_000);

    const chainFile = join(work, 'chain.pem');
    const leafFile = join(work, 'leaf.pem');
    const bundleFile = join(work, 'bundle.pem');
    writeFileSync(chainFile, svid.certChainPem);
    writeFileSync(leafFile, leaf.toString());
    const verified = await run('openssl', ['verify', '-CAfile', bundleFile, '-untrusted', chainFile, leafFile]);
    expect(verified.stdout.trim()).toBe(`${leafFile}: OK`);

    // The token was one-time: a second use is refused, and the CA keeps serving.
    await expect(requestSvid({ address, bundlePem, token })).rejects.toMatchObject({ details: { grpcCode: status.UNAUTHENTICATED } });
    const renewed = await requestSvid({ address, bundlePem, current: { certChainPem: svid.certChainPem, privateKey: svid.privateKey } });
    expect(renewed.spiffeId).toBe(spiffeId);

    const issued = logLines.filter((l) => l['audit'] === 'ca.issue' && l['result'] === 'issued');
    expect(issued.map((l) => l['serial'])).toContain(leaf.serialNumber);
    expect(logLines.some((l) => l['audit'] === 'ca.issue' && l['result'] === 'refused')).toBe(true);
    expect(JSON.stringify(logLines)).not.toContain(token);
  });

  it('no file the CA wrote holds a private key in clear', () => {
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['intermediate-key.sealed', 'root-key.sealed', 'join-tokens.sealed']));
    for (const name of files) expect(readFileSync(join(dir, name)).includes('PRIVATE KEY'), name).toBe(false);
  });

  it('refuses to init over an existing CA and leaves it intact', async () => {
    const before = readFileSync(join(dir, 'intermediate-key.sealed'));
    await expect(ztmesh('ca', 'init', '--trust-domain', TD, '--dir', dir)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('ZTMESH_CA_ALREADY_EXISTS') });
    expect(readFileSync(join(dir, 'intermediate-key.sealed')).equals(before)).toBe(true);
  });

  it('ca mint writes leaf+intermediate and a 0600 key that openssl accepts; no seal key is a coded error', async () => {
    const cert = join(work, 'minted.pem');
    const key = join(work, 'minted.key');
    await ztmesh('ca', 'mint', '--dir', dir, '--spiffe-id', `spiffe://${TD}/ns/ops/sa/bootstrap`, '--ttl', '15m', '--cert', cert, '--key', key);
    const chain = readFileSync(cert, 'utf8');
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const leaf = new X509Certificate(chain);
    expect(leaf.subjectAltName).toBe(`URI:spiffe://${TD}/ns/ops/sa/bootstrap`);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const leafFile = join(work, 'minted-leaf.pem');
    writeFileSync(leafFile, leaf.toString());
    await run('openssl', ['verify', '-CAfile', join(work, 'bundle.pem'), '-untrusted', cert, leafFile]);
    const { ZTMESH_SEAL_KEY: _drop, ...noKey } = env;
    await expect(run(process.execPath, [BIN, 'ca', 'mint', '--dir', dir, '--spiffe-id', `spiffe://${TD}/x`, '--cert', cert, '--key', key], { env: noKey })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('ZTMESH_SEAL_NO_KEY'),
    });
  });
});
