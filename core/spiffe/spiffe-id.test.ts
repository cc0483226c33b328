import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../errors/mesh-error.ts';
import { isSpiffeId, kubernetesParts, kubernetesSpiffeId, MAX_SPIFFE_ID_BYTES, parseSpiffeId, trustDomainError } from './spiffe-id.ts';

function reasonOf(input: string): string {
  try {
    parseSpiffeId(input);
  } catch (err) {
    expect(errorCode(err)).toBe('ZTMESH_SPIFFE_INVALID_ID');
    return String((err as { details?: { reason?: string } }).details?.reason);
  }
  return 'valid';
}

describe('parseSpiffeId: each rule', () => {
  it('parses trust domain and path', () => {
    expect(parseSpiffeId('spiffe://example.org/ns/default/sa/web')).toEqual({ id: 'spiffe://example.org/ns/default/sa/web', trustDomain: 'example.org', path: '/ns/default/sa/web' });
    expect(parseSpiffeId('spiffe://example.org')).toMatchObject({ trustDomain: 'example.org', path: '' });
    expect(parseSpiffeId('spiffe://a_b-c.d9/A.b-C_d/0')).toMatchObject({ path: '/A.b-C_d/0' });
  });

  it.each([
    ['', 'cannot be empty'],
    ['http://example.org/a', 'scheme must be "spiffe://"'],
    ['SPIFFE://example.org/a', 'scheme must be lowercase "spiffe"'],
    ['Spiffe://example.org/a', 'scheme must be lowercase "spiffe"'],
    ['spiffe:/example.org/a', 'scheme must be "spiffe://"'],
    ['spiffe://', 'trust domain is missing'],
    ['spiffe:///a', 'trust domain is missing'],
    ['spiffe://Example.org/a', 'trust domain must be lowercase'],
    ['spiffe://example.org:8080/a', 'trust domain must not include a port'],
    ['spiffe://user@example.org/a', 'trust domain must not include userinfo'],
    ['spiffe://exa%41mple.org/a', 'trust domain must not be percent-encoded'],
    ['spiffe://exa mple.org/a', 'trust domain characters are limited to lowercase letters, digits, dots, dashes and underscores'],
    ['spiffe://example.org/', 'path cannot have a trailing slash'],
    ['spiffe://example.org/a/', 'path cannot have a trailing slash'],
    ['spiffe://example.org//a', 'path cannot contain empty segments'],
    ['spiffe://example.org/a//b', 'path cannot contain empty segments'],
    ['spiffe://example.org/./a', 'path cannot contain dot segments'],
    ['spiffe://example.org/a/..', 'path cannot contain dot segments'],
    ['spiffe://example.org/a?x=1', 'query is not allowed'],
    ['spiffe://example.org/a#frag', 'fragment is not allowed'],
    ['spiffe://example.org/a%20b', 'path cannot contain percent-encoded characters'],
    ['spiffe://example.org/a b', 'path segment characters are limited to letters, numbers, dots, dashes and underscores'],
    ['spiffe://example.org/caf\u00e9', 'path segment characters are limited to letters, numbers, dots, dashes and underscores'],
  ])('%j is refused: %s', (input, reason) => {
    expect(reasonOf(input)).toBe(reason);
  });

  it('allows exactly 2048 bytes and no more', () => {
    const base = 'spiffe://example.org/';
    const max = base + 'a'.repeat(MAX_SPIFFE_ID_BYTES - base.length);
    expect(isSpiffeId(max)).toBe(true);
    expect(reasonOf(max + 'a')).toBe(`longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  });

  it('quotes at most a bounded prefix of a long hostile input', () => {
    try {
      parseSpiffeId(`spiffe://example.org/${'x'.repeat(5000)}`);
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(300);
    }
  });

  it('trustDomainError checks a trust domain alone', () => {
    expect(trustDomainError('example.org')).toBeUndefined();
    expect(trustDomainError('')).toBe('trust domain is missing');
    expect(trustDomainError('a:1')).toBe('trust domain must not include a port');
  });

  it('builds and splits Kubernetes workload IDs', () => {
    const id = kubernetesSpiffeId('cluster.local', 'shop', 'checkout');
    expect(id).toBe('spiffe://cluster.local/ns/shop/sa/checkout');
    expect(kubernetesParts(id)).toEqual({ namespace: 'shop', serviceAccount: 'checkout' });
    expect(kubernetesParts(parseSpiffeId('spiffe://cluster.local/other/shape').id)).toBeUndefined();
    // Regression: 'a/b' made a valid ID of another shape (spiffe://td/ns/a/b/sa/c); it must be refused.
    expect(() => kubernetesSpiffeId('cluster.local', 'a/b', 'c')).toThrow(expect.objectContaining({ code: 'ZTMESH_SPIFFE_INVALID_ID' }));
    expect(() => kubernetesSpiffeId('cluster.local', 'a', 'b/sa/c')).toThrow(expect.objectContaining({ code: 'ZTMESH_SPIFFE_INVALID_ID' }));
    expect(() => kubernetesSpiffeId('cluster.local', '', 'c')).toThrow(expect.objectContaining({ code: 'ZTMESH_SPIFFE_INVALID_ID' }));
  });
});

const TD_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-_'.split('');
const PATH_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_'.split('');
const trustDomain = fc.array(fc.constantFrom(...TD_CHARS), { minLength: 1, maxLength: 40 }).map((cs) => cs.join(''));
const segment = fc
  .array(fc.constantFrom(...PATH_CHARS), { minLength: 1, maxLength: 20 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const validId = fc.record({ td: trustDomain, segments: fc.array(segment, { maxLength: 6 }) }).map(({ td, segments }) => ({
  td,
  path: segments.map((s) => `/${s}`).join(''),
  id: `spiffe://${td}${segments.map((s) => `/${s}`).join('')}`,
}));
// Characters allowed nowhere after the scheme ('/' is the separator, so it is not one of them).
const forbiddenChar = fc.oneof(
  fc.constantFrom('?', '#', '%', ':', '@', ' ', '+', '!', '~', '*', '\\', '\u00e9', '\u0000', '\n', '[', ']'),
  fc.integer({ min: 0x80, max: 0x2fff }).map((c) => String.fromCharCode(c)),
);

describe('parseSpiffeId: properties', () => {
  it('every generated valid ID parses and round-trips', () => {
    fc.assert(
      fc.property(validId, ({ td, path, id }) => {
        const parsed = parseSpiffeId(id);
        expect(parsed.id).toBe(id);
        expect(parsed.trustDomain).toBe(td);
        expect(parsed.path).toBe(path);
        expect(`spiffe://${parsed.trustDomain}${parsed.path}`).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it('a forbidden character anywhere after the scheme is rejected', () => {
    fc.assert(
      fc.property(validId, forbiddenChar, fc.nat(), ({ id }, ch, at) => {
        const pos = 'spiffe://'.length + (at % (id.length - 'spiffe://'.length + 1));
        expect(reasonOf(id.slice(0, pos) + ch + id.slice(pos))).not.toBe('valid');
      }),
      { numRuns: 500 },
    );
  });

  it('an uppercase letter in the trust domain is rejected', () => {
    fc.assert(
      fc.property(validId, fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')), fc.nat(), ({ td, path }, ch, at) => {
        const pos = at % (td.length + 1);
        expect(reasonOf(`spiffe://${td.slice(0, pos)}${ch}${td.slice(pos)}${path}`)).toBe('trust domain must be lowercase');
      }),
    );
  });

  it('empty, dot and dot-dot segments and a trailing slash are rejected', () => {
    fc.assert(
      fc.property(validId, fc.constantFrom('', '.', '..'), fc.nat(), ({ td, path }, bad, at) => {
        const segments = path === '' ? [] : path.slice(1).split('/');
        segments.splice(at % (segments.length + 1), 0, bad);
        expect(reasonOf(`spiffe://${td}/${segments.join('/')}`)).not.toBe('valid');
      }),
    );
  });

  it('a scheme other than lowercase spiffe:// is rejected', () => {
    fc.assert(
      fc.property(validId, fc.constantFrom('SPIFFE://', 'Spiffe://', 'spiffe:/', 'spiffe:', 'https://', 'spiffe//', ''), ({ id }, scheme) => {
        expect(reasonOf(scheme + id.slice('spiffe://'.length))).not.toBe('valid');
      }),
    );
  });
});
