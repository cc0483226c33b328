import type { Cidr } from './port-list.ts';

/** What the interception init container is told (its `ztmesh iptables` flags). */
export interface InterceptionRules {
  readonly proxyUid: number;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly adminPort: number;
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly Cidr[];
  readonly includeOutboundCidrs: readonly Cidr[] | '*';
}

export const CHAINS = ['ZTMESH_INBOUND', 'ZTMESH_IN_REDIRECT', 'ZTMESH_OUTPUT', 'ZTMESH_REDIRECT'] as const;

export interface RenderOptions {
  /** 4 for iptables-restore, 6 for ip6tables-restore: CIDRs of the other family are left out. */
  readonly family: 4 | 6;
  /**
   * Whether to append the jumps from PREROUTING and OUTPUT into our chains. False when the chains
   * exist already (the init container ran before in this network namespace): declaring our chains
   * flushes and refills them, and the existing jumps stay, so a re-run never duplicates a rule.
   */
  readonly hookChains: boolean;
}

/**
 * The `iptables-restore --noflush` script that sends the pod's TCP through the sidecar:
 * - inbound (PREROUTING): every TCP connection to the pod is redirected to the sidecar's inbound
 *   port, except the admin port (kubelet probes, metrics) and the excluded ports;
 * - outbound (OUTPUT): TCP from any UID but the proxy's (no loops) is redirected to the sidecar's
 *   outbound port, except loopback traffic, excluded ports and CIDRs, and destinations outside the
 *   included CIDRs.
 * Everything lives in ZTMESH_* chains of the nat table; nothing else in the table is touched.
 */
export function renderIptablesScript(rules: InterceptionRules, options: RenderOptions): string {
  const { family } = options;
  const loopback = family === 4 ? '127.0.0.0/8' : '::1/128';
  const lines = [
    `# ztmesh interception rules for ${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush`,
    '*nat',
    ...CHAINS.map((chain) => `:${chain} - [0:0]`),
    `-A ZTMESH_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${rules.inboundPort}`,
    `-A ZTMESH_REDIRECT -p tcp -j REDIRECT --to-ports ${rules.outboundPort}`,
  ];
  // Inbound: the admin port and the excluded ports reach the pod directly.
  const inboundExcluded = [...new Set([rules.adminPort, ...rules.excludeInboundPorts])].sort((a, b) => a - b);
  for (const port of inboundExcluded) lines.push(`-A ZTMESH_INBOUND -p tcp --dport ${port} -j RETURN`);
  lines.push('-A ZTMESH_INBOUND -p tcp -j ZTMESH_IN_REDIRECT');
  // Outbound: the proxy's own connections first, so nothing it sends is ever redirected back to it.
  lines.push(`-A ZTMESH_OUTPUT -m owner --uid-owner ${rules.proxyUid} -j RETURN`);
  lines.push('-A ZTMESH_OUTPUT -o lo -j RETURN');
  lines.push(`-A ZTMESH_OUTPUT -d ${loopback} -j RETURN`);
  for (const port of rules.excludeOutboundPorts) lines.push(`-A ZTMESH_OUTPUT -p tcp --dport ${port} -j RETURN`);
  for (const cidr of rules.excludeOutboundCidrs) {
    if (cidr.family === family) lines.push(`-A ZTMESH_OUTPUT -d ${cidr.text} -j RETURN`);
  }
  if (rules.includeOutboundCidrs === '*') {
    lines.push('-A ZTMESH_OUTPUT -p tcp -j ZTMESH_REDIRECT');
  } else {
    for (const cidr of rules.includeOutboundCidrs) {
      if (cidr.family === family) lines.push(`-A ZTMESH_OUTPUT -p tcp -d ${cidr.text} -j ZTMESH_REDIRECT`);
    }
  }
  if (options.hookChains) {
    lines.push('-A PREROUTING -p tcp -j ZTMESH_INBOUND');
    lines.push('-A OUTPUT -p tcp -j ZTMESH_OUTPUT');
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
