import { isIPv4, isIPv6 } from 'node:net';
import { MeshError } from '../../core/errors/mesh-error.ts';

/**
 * Parsers for the interception lists that annotations and `ztmesh iptables` flags carry. `what`
 * names the source (an annotation or a flag) in the error, so the user knows what to fix.
 */
function bad(what: string, text: string, reason: string): MeshError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return new MeshError('ZTMESH_INJECT_BAD_ANNOTATION', `${what}: ${JSON.stringify(shown)} ${reason}`, { details: { source: what } });
}

function items(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text.trim())) throw bad(what, text, 'is not a port number (1-65535)');
  const port = Number(text.trim());
  if (port < 1 || port > 65535) throw bad(what, text, 'is not a port number (1-65535)');
  return port;
}

/** `"80, 443,8080"` → [80, 443, 8080]; sorted, duplicates removed; empty text → []. */
export function parsePortList(text: string, what: string): number[] {
  const ports = new Set<number>();
  for (const item of items(text)) {
    if (!/^\d{1,5}$/.test(item)) throw bad(what, text, `has ${JSON.stringify(item)}, which is not a port number (1-65535)`);
    const port = Number(item);
    if (port < 1 || port > 65535) throw bad(what, text, `has ${item}, which is not a port number (1-65535)`);
    ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

export interface Cidr {
  readonly family: 4 | 6;
  readonly text: string;
}

export function parseCidr(item: string, what: string, whole = item): Cidr {
  const slash = item.indexOf('/');
  const addr = slash === -1 ? item : item.slice(0, slash);
  const prefixText = slash === -1 ? undefined : item.slice(slash + 1);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (family === undefined) throw bad(what, whole, `has ${JSON.stringify(item)}, which is not an IP address or CIDR`);
  const max = family === 4 ? 32 : 128;
  if (prefixText !== undefined && (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max)) {
    throw bad(what, whole, `has ${JSON.stringify(item)}, whose prefix length is not 0-${max}`);
  }
  return { family, text: `${addr}/${prefixText ?? max}` };
}

/** `"10.0.0.0/8,fd00::/8"` → CIDRs; a bare address gets /32 or /128. */
export function parseCidrList(text: string, what: string): Cidr[] {
  return items(text).map((item) => parseCidr(item, what, text));
}

/** Like parseCidrList, but `*` (alone) means every destination and is returned as the string '*'. */
export function parseIncludeCidrs(text: string, what: string): Cidr[] | '*' {
  const list = items(text);
  if (list.includes('*')) {
    if (list.length > 1) throw bad(what, text, "mixes '*' with CIDRs; use '*' alone or a list of CIDRs");
    return '*';
  }
  if (list.length === 0) throw bad(what, text, "is empty; use '*' to intercept every destination");
  return parseCidrList(text, what);
}
