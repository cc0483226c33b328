import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchPki, CLIENT_ID, createBenchPki, SERVER_ID } from './pki.ts';

describe('createBenchPki', () => {
  let dir = '';
  let pki: BenchPki;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-pki-'));
    pki = await createBenchPki(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('issues SVID leaves with exactly one SPIFFE URI SAN, chained to the root', async () => {
    const root = new X509Certificate(await readFile(pki.bundleFile));
    for (const [leaf, id] of [[pki.client, CLIENT_ID], [pki.server, SERVER_ID]] as const) {
      const cert = new X509Certificate(await readFile(leaf.certFile));
      expect(cert.subjectAltName).toBe(`URI:${id}`);
      expect(cert.ca).toBe(false);
      expect(cert.verify(root.publicKey)).toBe(true);
      expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    expect(root.ca).toBe(true);
  });
});
