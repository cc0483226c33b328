import { describe, expect, it } from 'vitest';
import { formatHostPort, isLoopbackHost, parseHostPort } from './host-port.ts';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:15006', '127.0.0.1', 15006],
    ['[::1]:80', '::1', 80],
    ['orders.shop.svc.cluster.local:8080', 'orders.shop.svc.cluster.local', 8080],
    ['localhost:1', 'localhost', 1],
  ])('accepts %s', (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
    expect(formatHostPort({ host, port })).toBe(text);
  });

  it.each(['127.0.0.1', ':80', '::1:80', '[::1]80', '[nope]:80', '300.1.1.1:80', 'a_b:80', 'host:x', 'host:65536', 'host:0', '-a:1'])(
    'refuses %s',
    (text) => {
      expect(() => parseHostPort(text)).toThrow();
    },
  );

  it('admits port 0 only for listen addresses', () => {
    expect(parseHostPort('127.0.0.1:0', { allowZero: true })).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.org'].some(isLoopbackHost)).toBe(false);
  });
});
