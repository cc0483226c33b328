import { isIP } from 'node:net';

/**
 * IP blocks of `ipBlocks` / `notIpBlocks` and `source.ip` conditions: single addresses or CIDRs,
 * IPv4 or IPv6, as Istio accepts them. Validation uses node's `isIP`; matching parses the source
 * address into 32-bit words and compares masked words (no allocation per IPv4 check). IPv4-mapped
 * IPv6 source addresses (::ffff:a.b.c.d, what a dual-stack listener reports) match as IPv4.
 */

export type IpMatcher = (ip: string) => boolean;

/** Why `block` is not an IP address or CIDR, or undefined. */
export function cidrError(block: string): string | undefined {
  const slash = block.indexOf('/');
  const addr = slash === -1 ? block : block.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return `${JSON.stringify(block)} is not an IPv4 or IPv6 address or CIDR`;
  if (slash === -1) return undefined;
  const bits = block.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${JSON.stringify(block)}: prefix length must be 0..${max}`;
  return undefined;
}

/** Strips the IPv4-mapped prefix so ::ffff:10.0.0.1 matches 10.0.0.0/8. */
export function canonicalIp(ip: string): string {
  if (ip.length > 7 && ip.charCodeAt(0) === 0x3a && (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:')) && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1. */
export function parseIpv4(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // no leading zeros
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** An IPv6 address as four unsigned 32-bit words, or undefined. */
export function parseIpv6(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let text = ip;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const groups: number[] = [];
  const tailV4 = text.lastIndexOf('.') !== -1 ? parseIpv4(text.slice(text.lastIndexOf(':') + 1)) : -1;
  if (tailV4 >= 0) text = `${text.slice(0, text.lastIndexOf(':') + 1)}${(tailV4 >>> 16).toString(16)}:${(tailV4 & 0xffff).toString(16)}`;
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  groups.push(...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t);
  return [0, 1, 2, 3].map((w) => ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0);
}

function mask32(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

interface V6Block {
  readonly words: readonly number[];
  readonly masks: readonly number[];
}

/** Compiles validated blocks into one matcher; an unparseable address never matches. */
export function compileIpList(blocks: readonly string[]): IpMatcher {
  const v4: { net: number; mask: number }[] = [];
  const v6: V6Block[] = [];
  for (const block of blocks) {
    const slash = block.indexOf('/');
    const addr = slash === -1 ? block : block.slice(0, slash);
    if (isIP(addr) === 4) {
      const mask = mask32(slash === -1 ? 32 : Number(block.slice(slash + 1)));
      v4.push({ net: (parseIpv4(addr) & mask) >>> 0, mask });
    } else {
      const bits = slash === -1 ? 128 : Number(block.slice(slash + 1));
      const masks = [0, 1, 2, 3].map((w) => mask32(bits - 32 * w));
      const words = parseIpv6(addr)!.map((word, w) => (word & masks[w]!) >>> 0);
      v6.push({ words, masks });
    }
  }
  const match = (ip: string): boolean => {
    const a = parseIpv4(ip);
    if (a >= 0) {
      for (const b of v4) if (((a & b.mask) >>> 0) === b.net) return true;
      return false;
    }
    const canonical = canonicalIp(ip);
    if (canonical !== ip) return match(canonical);
    if (v6.length === 0) return false;
    const words = parseIpv6(ip);
    if (words === undefined) return false;
    for (const b of v6) {
      if (words.every((word, w) => ((word & b.masks[w]!) >>> 0) === b.words[w])) return true;
    }
    return false;
  };
  return match;
}
