import { MeshError } from '../../core/errors/mesh-error.ts';
import { parseFlags } from '../args.ts';
import type { CliIo } from '../io.ts';
import { installInterception } from '../../operator/inject/iptables-install.ts';
import { type InterceptionRules, renderIptablesScript } from '../../operator/inject/iptables-rules.ts';
import { parseCidrList, parseIncludeCidrs, parsePort, parsePortList } from '../../operator/inject/port-list.ts';

const HELP = `Usage: ztmesh iptables [options]

Installs the rules that send a pod's TCP through its sidecar (the injected init container runs this).

  --proxy-uid UID                 the sidecar's UID; its traffic is never redirected (default 1337)
  --inbound-port PORT             sidecar inbound (mTLS) port (default 15006)
  --outbound-port PORT            sidecar outbound port (default 15001)
  --admin-port PORT               sidecar admin port, never intercepted (default 15020)
  --exclude-inbound-ports LIST    comma-separated ports reached directly
  --exclude-outbound-ports LIST   comma-separated destination ports not intercepted
  --exclude-outbound-cidrs LIST   comma-separated CIDRs not intercepted
  --include-outbound-cidrs LIST   '*' (default) or comma-separated CIDRs to intercept
  --ipv6                          also install the rules with ip6tables-restore
  --dry-run                       print the iptables-restore script(s), change nothing
`;

function parseUid(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 4_294_967_294) {
    throw new MeshError('ZTMESH_CLI_BAD_ARGS', `--proxy-uid: ${JSON.stringify(text)} is not a non-root UID`);
  }
  return Number(text);
}

export function rulesFromFlags(values: Record<string, string | boolean | undefined>): InterceptionRules {
  const text = (name: string, fallback: string): string => {
    const v = values[name];
    return typeof v === 'string' ? v : fallback;
  };
  return {
    proxyUid: parseUid(text('proxy-uid', '1337')),
    inboundPort: parsePort(text('inbound-port', '15006'), '--inbound-port'),
    outboundPort: parsePort(text('outbound-port', '15001'), '--outbound-port'),
    adminPort: parsePort(text('admin-port', '15020'), '--admin-port'),
    excludeInboundPorts: parsePortList(text('exclude-inbound-ports', ''), '--exclude-inbound-ports'),
    excludeOutboundPorts: parsePortList(text('exclude-outbound-ports', ''), '--exclude-outbound-ports'),
    excludeOutboundCidrs: parseCidrList(text('exclude-outbound-cidrs', ''), '--exclude-outbound-cidrs'),
    includeOutboundCidrs: parseIncludeCidrs(text('include-outbound-cidrs', '*'), '--include-outbound-cidrs'),
  };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    'proxy-uid': { type: 'string' },
    'inbound-port': { type: 'string' },
    'outbound-port': { type: 'string' },
    'admin-port': { type: 'string' },
    'exclude-inbound-ports': { type: 'string' },
    'exclude-outbound-ports': { type: 'string' },
    'exclude-outbound-cidrs': { type: 'string' },
    'include-outbound-cidrs': { type: 'string' },
    ipv6: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const rules = rulesFromFlags(values);
  const families: (4 | 6)[] = values.ipv6 === true ? [4, 6] : [4];
  if (values['dry-run'] === true) {
    for (const family of families) io.stdout.write(renderIptablesScript(rules, { family, hookChains: true }));
    return 0;
  }
  const reports = await installInterception(rules, { families });
  for (const report of reports) {
    const tool = report.family === 4 ? 'iptables' : 'ip6tables';
    io.stdout.write(`ztmesh iptables: ${tool} rules ${report.reinstalled ? 'refreshed' : 'installed'}\n${report.script}`);
  }
  return 0;
}
