import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_USAGE, TestPki } from '../../test/fixtures/pki-mesh.ts';
import { readSvidExtensions } from './svid-extensions.ts';

let pki: TestPki;

beforeAll(async () => {
  pki = await TestPki.create('example.org');
});

async function der(options: Parameters<TestPki['leaf']>[0]): Promise<Uint8Array> {
  const leaf = await pki.leaf(options);
  return new Uint8Array(new X509Certificate(leaf.certChainPem).raw);
}

describe('readSvidExtensions', () => {
  it('reads the URI SANs, not-a-CA and digitalSignature-only key usage of a workload SVID', async () => {
    expect(readSvidExtensions(await der({ uris: ['spiffe://example.org/ns/shop/sa/orders'] }))).toEqual({
      isCa: false, signsCerts: false, uris: ['spiffe://example.org/ns/shop/sa/orders'],
    });
  });

  it('reads every URI SAN in order, and none when there are none', async () => {
    expect(readSvidExtensions(await der({ uris: ['spiffe://example.org/a', 'https://example.org/b'] })).uris).toEqual(['spiffe://example.org/a', 'https://example.org/b']);
    expect(readSvidExtensions(await der({ uris: [] })).uris).toEqual([]);
  });

  it('reads basicConstraints cA', async () => {
    expect(readSvidExtensions(await der({ uris: ['spiffe://example.org/a'], ca: true })).isCa).toBe(true);
  });

  it.each([
    ['keyCertSign', KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign, true],
    ['cRLSign', KEY_USAGE.cRLSign, true],
    ['keyEncipherment', KEY_USAGE.digitalSignature | KEY_USAGE.keyEncipherment, false],
    ['decipherOnly (the ninth bit)', KEY_USAGE.digitalSignature | KEY_USAGE.decipherOnly, false],
  ])('reads the key usage %s', async (_name, keyUsage, signsCerts) => {
    expect(readSvidExtensions(await der({ uris: ['spiffe://example.org/a'], keyUsage })).signsCerts).toBe(signsCerts);
  });

  it('reads the root of a TestPki as a CA that signs certificates', () => {
    const root = new X509Certificate(pki.bundlePem);
    expect(readSvidExtensions(new Uint8Array(root.raw))).toEqual({ isCa: true, signsCerts: true, uris: ['spiffe://example.org'] });
  });

  it('throws on truncated or trailing bytes and on a length past its parent', async () => {
    const good = await der({ uris: ['spiffe://example.org/a'] });
    expect(() => readSvidExtensions(good.subarray(0, good.length - 1))).toThrow();
    expect(() => readSvidExtensions(new Uint8Array([...good, 0]))).toThrow();
    expect(() => readSvidExtensions(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow();
    expect(() => readSvidExtensions(new Uint8Array([0x30, 0x80, 0x00, 0x00]))).toThrow();
    expect(() => readSvidExtensions(new Uint8Array([]))).toThrow();
  });

  it('throws when an extension appears twice (RFC 5280 4.2)', async () => {
    const good = await der({ uris: ['spiffe://example.org/a'] });
    // The SAN extension's OID, value and all, found by its OID bytes and appended to the extension list.
    expect(() => readSvidExtensions(withExtensionRepeated(good))).toThrow(/twice/);
  });
});

/** The certificate with its subjectAltName extension copied to the end of its extension list (lengths fixed up). */
function withExtensionRepeated(cert: Uint8Array): Uint8Array {
  const oid = [0x06, 0x03, 0x55, 0x1d, 0x11];
  const at = indexOf(cert, oid);
  const extStart = at - 2; // SEQUENCE tag and a one-byte length precede the OID in these small extensions
  if (cert[extStart] !== 0x30) throw new Error('test fixture: unexpected SAN encoding');
  const extension = cert.subarray(extStart, extStart + 2 + cert[extStart + 1]!);
  const top = readHeader(cert, 0);
  const tbs = readHeader(cert, top.contentStart);
  let p = tbs.contentStart;
  while (cert[p] !== 0xa3) p = readHeader(cert, p).end;
  const a3 = readHeader(cert, p);
  const list = readHeader(cert, a3.contentStart);
  // Recompute outer lengths from the rebuilt contents, innermost first.
  const listBody = [...cert.subarray(list.contentStart, list.end), ...extension];
  const listTlv = [0x30, ...encodeLength(listBody.length), ...listBody];
  const a3Tlv = [0xa3, ...encodeLength(listTlv.length), ...listTlv];
  const tbsBody = [...cert.subarray(tbs.contentStart, p), ...a3Tlv, ...cert.subarray(a3.end, tbs.end)];
  const tbsTlv = [0x30, ...encodeLength(tbsBody.length), ...tbsBody];
  const topBody = [...tbsTlv, ...cert.subarray(tbs.end, top.end)];
  return new Uint8Array([0x30, ...encodeLength(topBody.length), ...topBody]);
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, j) => haystack[i + j] === b)) return i;
  throw new Error('test fixture: bytes not found');
}

function readHeader(der: Uint8Array, at: number): { contentStart: number; end: number } {
  let p = at + 1;
  const first = der[p++]!;
  let length = first;
  if (first & 0x80) {
    length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[p++]!;
  }
  return { contentStart: p, end: p + length };
}

function encodeLength(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n % 256);
  return [0x80 | out.length, ...out];
}
