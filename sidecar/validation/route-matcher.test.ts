import { describe, expect, it } from 'vitest';
import { RouteMatcher } from './route-matcher.ts';

function matcher(routes: readonly [string, string][]): RouteMatcher<string> {
  const m = new RouteMatcher<string>();
  for (const [method, path] of routes) m.add(method, path, `${method} ${path}`);
  return m;
}

describe('RouteMatcher', () => {
  const m = matcher([
    ['GET', '/users'],
    ['GET', '/users/{id}'],
    ['GET', '/users/me'],
    ['DELETE', '/users/{id}'],
    ['GET', '/users/{id}/orders/{orderId}'],
    ['GET', '/files/{name}.json'],
    ['GET', '/files/{name}'],
    ['POST', '/'],
  ]);

  it('matches literal routes, templates, and each method separately', () => {
    expect(m.match('GET', '/users')).toBe('GET /users');
    expect(m.match('GET', '/users/17')).toBe('GET /users/{id}');
    expect(m.match('DELETE', '/users/17')).toBe('DELETE /users/{id}');
    expect(m.match('GET', '/users/17/orders/9')).toBe('GET /users/{id}/orders/{orderId}');
    expect(m.match('POST', '/')).toBe('POST /');
    expect(m.match('PUT', '/users/17')).toBeUndefined();
    expect(m.match('POST', '/users')).toBeUndefined();
  });

  it('prefers literal segments over parameters, and partial templates over whole-segment ones', () => {
    expect(m.match('GET', '/users/me')).toBe('GET /users/me');
    expect(m.match('GET', '/files/report.json')).toBe('GET /files/{name}.json');
    expect(m.match('GET', '/files/report.xml')).toBe('GET /files/{name}');
  });

  it('needs the same number of segments, and a parameter never matches an empty segment', () => {
    expect(m.match('GET', '/users/17/orders')).toBeUndefined();
    expect(m.match('GET', '/users/')).toBeUndefined();
    expect(m.match('GET', '/users/17/orders/9/x')).toBeUndefined();
    expect(m.match('GET', '/users//orders/9')).toBeUndefined();
  });

  it('keeps the first of two routes that differ only in parameter names', () => {
    const two = new RouteMatcher<number>();
    expect(two.add('GET', '/a/{x}', 1)).toBe(true);
    expect(two.add('GET', '/a/{y}', 2)).toBe(false);
    expect(two.add('GET', '/a', 3)).toBe(true);
    expect(two.add('GET', '/a', 4)).toBe(false);
    expect(two.match('GET', '/a/b')).toBe(1);
    expect(two.match('GET', '/a')).toBe(3);
  });

  it('backtracks from a literal branch that leads nowhere to a parameter', () => {
    const b = matcher([['GET', '/a/b/c'], ['GET', '/a/{x}/d'], ['GET', '/a/{x}/{y}/e']]);
    expect(b.match('GET', '/a/b/c')).toBe('GET /a/b/c');
    expect(b.match('GET', '/a/b/d')).toBe('GET /a/{x}/d');
    expect(b.match('GET', '/a/b/c/e')).toBe('GET /a/{x}/{y}/e');
    expect(b.match('GET', '/a/b/e')).toBeUndefined();
  });

  it('treats regular-expression characters in literal parts literally', () => {
    const re = matcher([['GET', '/v1.0/{x}.(json)']]);
    expect(re.match('GET', '/v1.0/a.(json)')).toBe('GET /v1.0/{x}.(json)');
    expect(re.match('GET', '/v1x0/a.(json)')).toBeUndefined();
    expect(re.match('GET', '/v1.0/a.json')).toBeUndefined();
  });
});
