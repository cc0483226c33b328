import { describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseCidrList, parseIncludeCidrs, parsePort, parsePortList } from './port-list.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof MeshError ? err.code : 'not a MeshError';
  }
}

describe('port and CIDR lists', () => {
  it('parses, trims, sorts and de-duplicates port lists', () => {
    expect(parsePortList(' 443, 80,80 ,8080', 'x')).toEqual([80, 443, 8080]);
    expect(parsePortList('', 'x')).toEqual([]);
    expect(parsePort('15020', 'x')).toBe(15020);
  });

  it.each(['http', '0', '65536', '-1', '80-90', '1e3', '80;443'])('rejects port list %j naming the source', (text) => {
    expect(codeOf(() => parsePortList(text, 'ztmesh.io/exclude-inbound-ports'))).toBe('ZTMESH_INJECT_BAD_ANNOTATION');
    try {
      parsePortList(text, 'ztmesh.io/exclude-inbound-ports');
    } catch (err) {
      expect((err as MeshError).message).toContain('ztmesh.io/exclude-inbound-ports');
    }
  });

  it('parses CIDRs of both families, bare addresses as hosts', () => {
    expect(parseCidrList('10.0.0.0/8, 169.254.169.254,fd00::/8,::1', 'x')).toEqual([
      { family: 4, text: '10.0.0.0/8' },
      { family: 4, text: '169.254.169.254/32' },
      { family: 6, text: 'fd00::/8' },
      { family: 6, text: '::1/128' },
    ]);
  });

  it.each(['10.0.0.0/33', '300.1.1.1', 'example.com', '10.0.0.0/x', 'fd00::/129'])('rejects CIDR %j', (text) => {
    expect(codeOf(() => parseCidrList(text, 'ztmesh.io/exclude-outbound-cidrs'))).toBe('ZTMESH_INJECT_BAD_ANNOTATION');
  });

  it("accepts '*' alone for the include list, and nothing mixed with it or empty", () => {
    expect(parseIncludeCidrs('*', 'x')).toBe('*');
    expect(codeOf(() => parseIncludeCidrs('*,10.0.0.0/8', 'x'))).toBe('ZTMESH_INJECT_BAD_ANNOTATION');
    expect(codeOf(() => parseIncludeCidrs('', 'x'))).toBe('ZTMESH_INJECT_BAD_ANNOTATION');
  });
});
