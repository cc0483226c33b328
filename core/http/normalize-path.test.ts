import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePath, type PathNormalizationMode } from './normalize-path.ts';

function ok(raw: string, mode?: PathNormalizationMode): { path: string; target: string } {
  const r = normalizePath(raw, mode);
  if (!r.ok) throw new Error(`expected ${raw} to normalize, got ${r.code}`);
  return { path: r.path, target: r.target };
}

function code(raw: string, mode?: PathNormalizationMode): string | undefined {
  const r = normalizePath(raw, mode);
  return r.ok ? undefined : r.code;
}

describe('normalizePath (strict)', () => {
  it.each([
    ['/public/../admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['//admin', '/admin'],
    ['/./admin', '/admin'],
    ['/admin', '/admin'],
    ['/', '/'],
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
    ['/../../admin', '/admin'],
    ['/..', '/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/a//b///c', '/a/b/c'],
    ['/a/b/', '/a/b/'],
    ['/a//', '/a/'],
    ['/%2e%2e/admin', '/admin'],
    ['/%2E%2E/admin', '/admin'],
    ['/.%2e/admin', '/admin'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/%7Euser', '/~user'],
    ['/a%20b', '/a%20b'],
    ['/a%3fb', '/a%3Fb'],
    ['/a%25b', '/a%25b'],
    ['/a%252e%252e/x', '/a%252e%252e/x'],
    ['/index.html', '/index.html'],
    ['/a..b/c.', '/a..b/c.'],
    ['/api/v1/users:batch@x', '/api/v1/users:batch@x'],
    ['/a;jsessionid=1/b', '/a;jsessionid=1/b'],
  ])('%s -> %s', (raw, want) => {
    expect(ok(raw).path).toBe(want);
  });

  it('keeps the query out of the path and verbatim in the target', () => {
    expect(ok('/a/../b?x=/../y&z=%2F')).toEqual({ path: '/b', target: '/b?x=/../y&z=%2F' });
    expect(ok('/admin?')).toEqual({ path: '/admin', target: '/admin?' });
    expect(ok('/p?q\\x')).toEqual({ path: '/p', target: '/p?q\\x' });
  });

  it.each([
    ['/a%2Fb', 'ZTMESH_HTTP_PATH_ENCODED_SLASH'],
    ['/a%2fb', 'ZTMESH_HTTP_PATH_ENCODED_SLASH'],
    ['/a%5Cb', 'ZTMESH_HTTP_PATH_ENCODED_SLASH'],
    ['/a%5cb', 'ZTMESH_HTTP_PATH_ENCODED_SLASH'],
    ['/a\\b', 'ZTMESH_HTTP_PATH_BACKSLASH'],
    ['/..\\admin', 'ZTMESH_HTTP_PATH_BACKSLASH'],
    ['/a%00b', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a%0Ab', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a%7fb', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a\u0000b', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a\tb', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a b', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a\u007fb', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a?x\r\ny', 'ZTMESH_HTTP_PATH_CONTROL_CHAR'],
    ['/a%', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/a%4', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/a%4?x', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/a%zz', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/a?x=%G1', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/a?x=%', 'ZTMESH_HTTP_PATH_BAD_PERCENT'],
    ['/caf\u00e9', 'ZTMESH_HTTP_PATH_BAD_CHAR'],
    ['/a#frag', 'ZTMESH_HTTP_PATH_BAD_CHAR'],
    ['/public/..;/admin', 'ZTMESH_HTTP_PATH_DOT_PARAMS'],
    ['/public/.;x/admin', 'ZTMESH_HTTP_PATH_DOT_PARAMS'],
    ['/a/..;', 'ZTMESH_HTTP_PATH_DOT_PARAMS'],
    ['/public/%2e%2e;/admin', 'ZTMESH_HTTP_PATH_DOT_PARAMS'],
    ['admin', 'ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM'],
    ['', 'ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM'],
    ['*', 'ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM'],
    ['http://x/admin', 'ZTMESH_HTTP_PATH_NOT_ORIGIN_FORM'],
  ])('refuses %j with %s', (raw, want) => {
    expect(code(raw)).toBe(want);
  });

  it('decode-and-merge-slashes turns encoded and raw backslashes and slashes into "/"', () => {
    expect(ok('/a%2Fb', 'decode-and-merge-slashes').path).toBe('/a/b');
    expect(ok('/a%5c..%5Cadmin', 'decode-and-merge-slashes').path).toBe('/admin');
    expect(ok('/public\\..\\admin', 'decode-and-merge-slashes').path).toBe('/admin');
    expect(code('/a%00', 'decode-and-merge-slashes')).toBe('ZTMESH_HTTP_PATH_CONTROL_CHAR');
  });

  it('base keeps empty segments but still removes dot segments and refuses encoded slashes', () => {
    expect(ok('//admin', 'base').path).toBe('//admin');
    expect(ok('/a/./b/../c', 'base').path).toBe('/a/c');
    expect(code('/a%2Fb', 'base')).toBe('ZTMESH_HTTP_PATH_ENCODED_SLASH');
  });
});

// Targets built from the characters that matter: separators, dots, escapes (valid or not), query.
const pieces = ['/', '/', '.', '..', 'a', 'B', '%2e', '%2E', '%61', '%7e', '%25', '%3f', '%2F', '%5c', '\\', '%', '%g', '?', '=', '~', ';', ':', '%20'];
const target = fc.array(fc.constantFrom(...pieces), { maxLength: 14 }).map((parts) => '/' + parts.join(''));
const modes: PathNormalizationMode[] = ['strict', 'base', 'decode-and-merge-slashes'];

describe('normalizePath properties', () => {
  for (const mode of modes) {
    it(`is idempotent (${mode})`, () => {
      fc.assert(
        fc.property(target, (raw) => {
          const once = normalizePath(raw, mode);
          if (!once.ok) return;
          const twice = normalizePath(once.target, mode);
          expect(twice).toEqual(once);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('never leaves a dot segment, an empty segment or a decodable escape (strict)', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const r = normalizePath(raw);
        if (!r.ok) return;
        expect(r.path.startsWith('/')).toBe(true);
        expect(r.path.split('/').slice(1, -1)).not.toContain('');
        expect(r.path.split('/')).not.toContain('..');
        expect(r.path.split('/')).not.toContain('.');
        expect(r.path).not.toMatch(/%(2[eE]|[46][1-9a-fA-F]|[57][0-9aAeE]|3[0-9])/);
        expect(r.path).not.toContain('\\');
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const r = normalizePath('/' + s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
