import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseSpiffeId } from '../../core/spiffe/spiffe-id.ts';

/** Which authenticated SPIFFE IDs may ask for which exact DNS SANs (nobody else may ask for any). */
export type DnsAllowList = ReadonlyMap<string, readonly string[]>;

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Parses `--allow-dns SPIFFE_ID=DNSNAME[,DNSNAME]` entries (repeatable; entries for the same ID
 * add up). Exact names only, lower case, no wildcards: the admission webhook's Service names are
 * the one use.
 */
export function parseDnsAllowList(entries: readonly string[]): DnsAllowList {
  const map = new Map<string, string[]>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const bad = (why: string) => new MeshError('ZTMESH_CA_BAD_DNS_ALLOW_LIST', `--allow-dns ${JSON.stringify(entry.slice(0, 300))}: ${why}`, { details: { entry: entry.slice(0, 300) } });
    if (eq <= 0) throw bad('expected SPIFFE_ID=DNSNAME[,DNSNAME]');
    let id: string;
    try {
      id = parseSpiffeId(entry.slice(0, eq)).id;
    } catch (err) {
      throw new MeshError('ZTMESH_CA_BAD_DNS_ALLOW_LIST', `--allow-dns ${JSON.stringify(entry.slice(0, 300))}: not a SPIFFE ID before "="`, { cause: err });
    }
    const names = entry.slice(eq + 1).split(',');
    for (const name of names) if (!DNS_NAME.test(name)) throw bad(`${JSON.stringify(name)} is not an exact lower-case DNS name`);
    map.set(id, [...new Set([...(map.get(id) ?? []), ...names])]);
  }
  return map;
}
