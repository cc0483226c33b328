import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage:
  ztmesh operator --trust-domain TD --cert-file FILE --key-file FILE --bundle-file FILE [options]

Watches AuthorizationPolicies, MeshConfig, Pods, ServiceAccounts and Namespaces, and pushes each
sidecar (over mTLS, authenticated by its SVID) the policies that select its own workload. The
replica holding the Lease writes the policies' status conditions.

Options:
  --kubeconfig FILE             kubeconfig to use (default: in-cluster, then $KUBECONFIG/~/.kube/config)
  --trust-domain TD             the mesh trust domain
  --cert-file FILE              the operator's SVID (leaf then intermediates), PEM
  --key-file FILE               its private key, PEM
  --bundle-file FILE            the trust bundle, PEM
  --distribution-listen ADDR    policy distribution gRPC address (default 0.0.0.0:15012)
  --admin ADDR                  /healthz /ready /status (default 127.0.0.1:15014)
  --lease-namespace NS          namespace of the leader Lease (default $POD_NAMESPACE or ztmesh-system)
  --lease-name NAME             the leader Lease (default ztmesh-operator-leader, as the chart's RBAC names it)
  --id NAME                     this replica's holder identity (default $POD_NAME or host-pid)
  --log-level LEVEL             default info
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    'trust-domain': { type: 'string' },
    'cert-file': { type: 'string' },
    'key-file': { type: 'string' },
    'bundle-file': { type: 'string' },
    'distribution-listen': { type: 'string' },
    admin: { type: 'string' },
    'lease-namespace': { type: 'string' },
    'lease-name': { type: 'string' },
    id: { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const file = (name: 'cert-file' | 'key-file' | 'bundle-file') => resolve(io.cwd, requireFlag(values[name], name));
  const options = {
    kubeconfigFile: values.kubeconfig === undefined ? undefined : resolve(io.cwd, values.kubeconfig),
    trustDomain: requireFlag(values['trust-domain'], 'trust-domain'),
    certFile: file('cert-file'),
    keyFile: file('key-file'),
    bundleFile: file('bundle-file'),
    distributionListen: values['distribution-listen'] ?? '0.0.0.0:15012',
    adminListen: values.admin ?? '127.0.0.1:15014',
    leaseNamespace: values['lease-namespace'] ?? io.env['POD_NAMESPACE'] ?? 'ztmesh-system',
    leaseName: values['lease-name'] ?? 'ztmesh-operator-leader',
    holderIdentity: values.id ?? io.env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    logLevel: values['log-level'] ?? 'info',
  };
  const { runOperator } = await import('../../operator/main.ts');
  return runOperator(options);
}
