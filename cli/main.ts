import { MeshError } from '../core/errors/mesh-error.ts';
import { type CliIo, type Command, processIo } from './io.ts';

interface Entry {
  readonly summary: string;
  readonly load: () => Promise<{ run: Command }>;
}

// Loaded lazily: `ztmesh seal` must not pay for loading gRPC or the Kubernetes client.
const commands: Record<string, Entry> = {
  // Each component adds its own line here; keep them alphabetical.
  ca: { summary: 'the mesh certificate authority: init, serve, token create, mint, bundle', load: () => import('./commands/ca.ts') },
  dashboard: { summary: 'serve a live web page of the mesh: service graph, denials, API inventory, certificates', load: () => import('./commands/dashboard.ts') },
  demo: { summary: 'run the local demo mesh: CA, three services and their sidecars (npm start)', load: () => import('./commands/demo.ts') },
  inject: { summary: 'print manifests with the ztmesh sidecar injected (like istioctl kube-inject)', load: () => import('./commands/inject.ts') },
  inventory: { summary: 'list the mesh\'s APIs as the sidecars observed them (routes, callers, sensitive fields)', load: () => import('./commands/inventory.ts') },
  iptables: { summary: 'install the rules that send a pod\'s TCP through its sidecar (init container)', load: () => import('./commands/iptables.ts') },
  operator: { summary: 'run the operator: watch policies and pods, push each sidecar its policies over mTLS gRPC', load: () => import('./commands/operator.ts') },
  policy: { summary: 'check, explain and simulate authorization policies (the sidecar\'s own evaluator)', load: () => import('./commands/policy.ts') },
  seal: { summary: 'seal a file with envelope encryption (AES-256-GCM), or re-wrap sealed files with a new key', load: () => import('./commands/seal.ts') },
  sidecar: { summary: 'run the sidecar proxy: mTLS inbound/outbound, identity, policies, admin port', load: () => import('./commands/sidecar.ts') },
  status: { summary: 'show what the operator sees: workloads, identities, policies per workload, acknowledged versions', load: () => import('./commands/status.ts') },
  unseal: { summary: 'print a sealed file\'s plaintext on stdout', load: () => import('./commands/unseal.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `Usage: ztmesh <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'ztmesh <command> --help' for a command's options.\n`;
}

/** The CLI's one rescue point: a MeshError becomes its code and message on stderr, anything else a bug report. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.stdout.write('ztmesh 0.1.0\n');
    return 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    io.stderr.write(`ztmesh: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof MeshError) {
      io.stderr.write(`ztmesh ${name}: ${err.code}: ${err.message}\n`);
      return err.code === 'ZTMESH_CLI_BAD_ARGS' ? 2 : 1;
    }
    io.stderr.write(`ztmesh ${name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
