import { MeshError } from '../../core/errors/mesh-error.ts';
import type { ControlView } from '../../operator/control-loop.ts';
import { parseFlags } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage:
  ztmesh status [--admin HOST:PORT] [--json]

Shows what the operator sees, from its admin endpoint (default 127.0.0.1:15014; in a cluster:
kubectl -n ztmesh-system port-forward deploy/ztmesh-operator 15014): the workloads and their
identities, the policies applied to each, which version each connected sidecar acknowledged or
refused, which policies were not accepted (with the reason and field), and the meshed Services
endpoint discovery pushes (endpoints per port, and the endpoints left out with the reason).
`;

type StatusView = ControlView & { readonly informers?: readonly { name: string; synced: boolean; healthy: boolean; restarts: number; lastError?: string }[] };

function render(view: StatusView): string {
  const out: string[] = [];
  out.push(`leader: ${view.leader ? 'yes' : 'no'}`);
  if (view.meshConfig !== undefined) out.push(`mesh: trustDomain=${view.meshConfig.trustDomain} rootNamespace=${view.meshConfig.rootNamespace} defaultAction=${view.meshConfig.defaultAction}`);
  for (const i of view.informers ?? []) out.push(`watch ${i.name}: ${i.synced && i.healthy ? 'ok' : `NOT READY${i.lastError ? ` (${i.lastError})` : ''}`}${i.restarts > 0 ? `, ${i.restarts} restarts` : ''}`);
  out.push('', 'WORKLOADS');
  if (view.workloads.length === 0) out.push('  (none)');
  for (const w of view.workloads) {
    out.push(`  ${w.workload}  ${w.identity}${w.serviceAccountKnown ? '' : ' (service account not found)'}  version ${w.version}`);
    out.push(`    policies: ${w.policies.length === 0 ? '(none)' : w.policies.join(', ')}`);
    if (w.sidecars.length === 0) out.push('    sidecars: (none connected)');
    for (const s of w.sidecars) {
      const state = s.rejected !== undefined ? `REFUSED ${s.rejected.version}: ${s.rejected.reason}` : s.ackedVersion === w.version ? 'up to date' : `acked ${s.ackedVersion ?? '(nothing yet)'}`;
      out.push(`    sidecar ${s.peer}: ${state}`);
    }
  }
  out.push('', 'POLICIES');
  if (view.policies.length === 0) out.push('  (none)');
  for (const p of view.policies) out.push(`  ${p.key}  ${p.accepted ? 'Accepted' : `NOT ACCEPTED (${p.reason}${p.field !== undefined ? ` at ${p.field}` : ''}): ${p.message}`}`);
  if (view.discovery !== undefined) {
    out.push('', 'SERVICES (endpoint discovery)');
    if (view.discovery.services.length === 0) out.push('  (none)');
    for (const s of view.discovery.services) out.push(`  ${s.service}  ${s.ports.map((p) => `port ${p.port}: ${p.endpoints} endpoint${p.endpoints === 1 ? '' : 's'}`).join(', ')}`);
    for (const l of view.discovery.leftOut) out.push(`  left out: ${l.address} of ${l.service}: ${l.reason}`);
  }
  return `${out.join('\n')}\n`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { admin: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const admin = values.admin ?? '127.0.0.1:15014';
  let view: StatusView;
  try {
    const res = await fetch(`http://${admin}/status`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    view = (await res.json()) as StatusView;
  } catch (err) {
    throw new MeshError('ZTMESH_CONTROL_ADMIN_FAILED', `cannot read the operator status from ${admin}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  io.stdout.write(values.json === true ? `${JSON.stringify(view, null, 2)}\n` : render(view));
  return 0;
}
