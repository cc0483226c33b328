import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrError, compileIpList, parseIpv4, parseIpv6 } from './cidr.ts';

describe('IP blocks', () => {
  it.each([
    ['10.0.0.0/8', undefined],
    ['1.2.3.4', undefined],
    ['::1', undefined],
    ['2001:db8::/32', undefined],
    ['10.0.0.0/33', 'prefix length'],
    ['10.0.0/8', 'is not an IPv4 or IPv6'],
    ['2001:db8::/129', 'prefix length'],
    ['10.0.0.0/', 'prefix length'],
    ['10.0.0.0/-1', 'prefix length'],
    ['host.example', 'is not an IPv4 or IPv6'],
  ])('cidrError(%s)', (block, want) => {
    const err = cidrError(block);
    if (want === undefined) expect(err).toBeUndefined();
    else expect(err).toContain(want);
  });

  it('parses addresses strictly', () => {
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['10.1.2', '10.1.2.3.4', '256.0.0.1', '01.2.3.4', '1..2.3', '', 'a.b.c.d', '1.2.3.4 ']) expect(parseIpv4(bad)).toBe(-1);
    expect(parseIpv6('::1')).toEqual([0, 0, 0, 1]);
    expect(parseIpv6('2001:db8::ffff:1.2.3.4')).toEqual([0x20010db8, 0, 0xffff, 0x01020304]);
    expect(parseIpv6('1.2.3.4')).toBeUndefined();
  });

  it('matches IPv4-mapped IPv6 sources as IPv4', () => {
    const m = compileIpList(['10.0.0.0/8']);
    expect(m('::ffff:10.9.9.9')).toBe(true);
    expect(m('::ffff:11.9.9.9')).toBe(false);
    expect(m('garbage')).toBe(false);
    expect(m('')).toBe(false);
  });

  const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map((p) => p.join('.'));
  const v6 = fc.ipV6();

  it('agrees with node BlockList (IPv4)', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, bits, ip) => {
        const list = new BlockList();
        list.addSubnet(net, bits, 'ipv4');
        expect(compileIpList([`${net}/${bits}`])(ip)).toBe(list.check(ip, 'ipv4'));
        expect(compileIpList([`${net}/${bits}`])(net)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with node BlockList (IPv6)', () => {
    fc.assert(
      fc.property(v6, fc.integer({ min: 0, max: 128 }), v6, (net, bits, ip) => {
        const list = new BlockList();
        list.addSubnet(net, bits, 'ipv6');
        expect(compileIpList([`${net}/${bits}`])(ip)).toBe(list.check(ip, 'ipv6'));
        expect(compileIpList([`${net}/${bits}`])(net)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
