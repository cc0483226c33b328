import { describe, expect, it } from 'vitest';
import { isIdentifierSegment, routeTemplate } from './route-template.ts';

describe('routeTemplate', () => {
  it('collapses numeric ids', () => {
    expect(routeTemplate('/users/17')).toBe('/users/{id}');
    expect(routeTemplate('/users/42/orders/9')).toBe('/users/{id}/orders/{id}');
  });

  it('collapses UUIDs, long hex, tokens, e-mails and dates', () => {
    expect(routeTemplate('/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBe('/orders/{id}');
    expect(routeTemplate('/blobs/DEADBEEFCAFE0001/meta')).toBe('/blobs/{id}/meta');
    expect(routeTemplate('/commits/a1b2c3d4')).toBe('/commits/{id}');
    expect(routeTemplate('/reset/AbC12dEf34gHi56jKl')).toBe('/reset/{id}');
    expect(routeTemplate('/users/alice@example.com/profile')).toBe('/users/{id}/profile');
    expect(routeTemplate('/users/alice%40example.com')).toBe('/users/{id}');
    expect(routeTemplate('/reports/2024-01-02')).toBe('/reports/{id}');
    expect(routeTemplate(`/x/${'a'.repeat(65)}`)).toBe('/x/{id}');
  });

  it('keeps route names, versions and dashed words literal, returning the same string', () => {
    for (const p of ['/', '/api/v1/items', '/authentication-methods', '/oauth2-authorization/callback', '/healthz', '/api/v2/users/', '/static/app.js', '/feed']) {
      expect(routeTemplate(p)).toBe(p);
    }
  });

  it('keeps a trailing slash and empty segments', () => {
    expect(routeTemplate('/users/17/')).toBe('/users/{id}/');
    expect(routeTemplate('/a//17')).toBe('/a//{id}');
  });

  it('is idempotent', () => {
    for (const p of ['/users/17', '/a/b/3f2504e0-4f89-11d3-9a0c-0305e82c3301/c', '/x/alice@example.com']) {
      expect(routeTemplate(routeTemplate(p))).toBe(routeTemplate(p));
    }
  });

  it('classifies segment ranges without slicing', () => {
    expect(isIdentifierSegment('/users/123/x', 7, 10)).toBe(true);
    expect(isIdentifierSegment('/users/123/x', 1, 6)).toBe(false);
    expect(isIdentifierSegment('')).toBe(false);
    expect(isIdentifierSegment('deadbeef')).toBe(false); // letters only: could be a word
    expect(isIdentifierSegment('cafe1234')).toBe(true);
  });
});

describe('routeTemplate on hostile input', () => {
  it('never throws, is idempotent, and keeps the segment count for any path', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }).map((s) => s.replace(/\//g, '')), { maxLength: 12 }), (segments) => {
        const path = `/${segments.join('/')}`;
        const t = routeTemplate(path);
        expect(routeTemplate(t)).toBe(t);
        expect(t.split('/').length).toBe(path.split('/').length);
        expect(t.length).toBeLessThanOrEqual(path.length + 4 * segments.length);
      }),
      { numRuns: 500 },
    );
  });

  it('collapses a scanner\'s random tokens and long junk into {id}', () => {
    expect(routeTemplate('/api/Zx81kQ2mP0aLw9Rt/5')).toBe('/api/{id}/{id}');
    expect(routeTemplate(`/${'A1'.repeat(40)}`)).toBe('/{id}');
  });
});
