import { parseDuration } from '../../core/config/duration.ts';
import { loadToken } from '../../dashboard/access-control.ts';
import { runDashboard } from '../../dashboard/main.ts';
import { parseDashboardAddress } from '../../dashboard/start-dashboard.ts';
import { demoTopology, DEMO_SERVICE_NAMES } from '../../demo/topology.ts';
import { parseFlags } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage: ztmesh dashboard [--listen ADDR] [--from ADMIN_ADDR,...] [--token-file FILE] [--interval DURATION]

Serves a live web page of the mesh, read from the sidecars' admin ports: the service graph
(allowed and denied calls, mTLS on every edge), recent denials with their reason, the API
inventory, anomalies, and each workload's certificate expiry.

  --listen      address to serve on (default 127.0.0.1:8090). Loopback only, unless --token-file is given
  --from        sidecar admin addresses (default: the local demo mesh, 127.0.0.1:15000,16000,17000)
  --token-file  a file holding a bearer token (one line, 16+ characters); required for a non-loopback
                --listen. Clients send "Authorization: Bearer TOKEN", or open /?token=TOKEN once
  --interval    how often the sidecars are read (default 2s)
`;

function defaultSources(): string[] {
  const t = demoTopology();
  return DEMO_SERVICE_NAMES.map((n) => `127.0.0.1:${t.services[n].ports.admin}`);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    listen: { type: 'string' },
    from: { type: 'string' },
    'token-file': { type: 'string' },
    interval: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const listen = parseDashboardAddress(values.listen ?? '127.0.0.1:8090', '--listen', { allowZero: true });
  const sources = values.from === undefined ? defaultSources() : values.from.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of sources) parseDashboardAddress(s, '--from');
  const token = values['token-file'] === undefined ? undefined : await loadToken(values['token-file']);
  const intervalMs = parseDuration(values.interval ?? '2s', '--interval');
  return runDashboard({
    listen,
    sources,
    token,
    intervalMs: Math.max(intervalMs, 200),
    onServing: (url) => io.stdout.write(`ztmesh dashboard: serving ${url} (reading ${sources.join(', ')})${token === undefined ? '' : '; bearer token required'}\n`),
  });
}
