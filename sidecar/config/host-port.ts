import { isIP } from 'node:net';

/** A listen or connect address: `host` without brackets (IPv6 written `[::1]:80` in config). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function hostnameError(host: string): string | undefined {
  if (host.length > 253) return 'hostname is longer than 253 characters';
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  for (const label of labels) {
    if (!HOSTNAME_LABEL.test(label)) return `${JSON.stringify(host)} is not an IPv4 address, [IPv6] address or hostname`;
  }
  // All-numeric dotted names that are not valid IPv4 (e.g. 300.1.1.1) are typos, not hostnames.
  if (/^[0-9.]+$/.test(host)) return `${JSON.stringify(host)} is not a valid IPv4 address`;
  return undefined;
}

/**
 * Parses `host:port` (`127.0.0.1:15006`, `[::1]:15006`, `orders.shop.svc:8080`). `allowZero` admits
 * port 0 (listen on any free port); connect addresses need 1..65535. Throws an Error naming the problem.
 */
export function parseHostPort(text: string, options: { allowZero?: boolean } = {}): HostPort {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') throw new Error(`${JSON.stringify(text)} is not host:port ([IPv6]:port)`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) throw new Error(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) throw new Error(`${JSON.stringify(text)} is not host:port`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw new Error(`${JSON.stringify(text)}: write IPv6 addresses in brackets, like [::1]:15006`);
    if (isIP(host) !== 4) {
      const reason = hostnameError(host);
      if (reason !== undefined) throw new Error(reason);
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText)) throw new Error(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  const min = options.allowZero === true ? 0 : 1;
  if (port < min || port > 65535) throw new Error(`port ${port} is outside ${min}..65535`);
  return { host, port };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}
