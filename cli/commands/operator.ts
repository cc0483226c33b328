import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseDuration } from '../../core/config/duration.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { isLoopbackHost, parseHostPort, type HostPort } from '../../sidecar/config/host-port.ts';
import type { OperatorMainOptions } from '../../operator/main.ts';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage:
  ztmesh operator --trust-domain TD (--cert-file F --key-file F --bundle-file F | --ca-address A --ca-token-file F --ca-bundle-file F) [options]

Watches AuthorizationPolicies, MeshConfig, Pods, ServiceAccounts and Namespaces, and pushes each
sidecar (over mTLS, authenticated by its SVID) the policies that select its own workload; sidecars
report back on the same stream what they observed (inventory, denials, anomalies, certificate). The
replica holding the Lease writes the policies' status conditions and the webhook's caBundle.
With --webhook-listen it also serves the sidecar-injection admission webhook.

Options:
  --kubeconfig FILE             kubeconfig to use (default: in-cluster, then $KUBECONFIG/~/.kube/config)
  --trust-domain TD             the mesh trust domain
  The operator's SVID, either from files (written by cert-manager, a SPIRE agent, ...):
  --cert-file FILE              the operator's SVID (leaf then intermediates), PEM
  --key-file FILE               its private key, PEM
  --bundle-file FILE            the trust bundle, PEM
  or from the mesh CA, authenticated by a projected ServiceAccount token, renewed at half-life:
  --ca-address HOST:PORT        the CA (ztmesh ca serve)
  --ca-token-file FILE          the projected ServiceAccount token (audience ztmesh-ca)
  --ca-bundle-file FILE         the trust bundle the CA chains to, PEM
  --distribution-listen ADDR    policy distribution gRPC address (default 0.0.0.0:15012)
  --admin ADDR                  /healthz /ready /status (default 127.0.0.1:15014)
  --webhook-listen ADDR         serve the injection webhook (HTTPS, POST /inject) on ADDR
  --injector-config FILE        the injector options (the chart's ztmesh-injector ConfigMap); reloaded when it changes
  --webhook-configuration NAME  the MutatingWebhookConfiguration whose caBundle the leader keeps current
  --webhook-dns-names N[,N]     the webhook certificate's DNS names
                                (default ztmesh-operator.$NS.svc,ztmesh-operator.$NS.svc.cluster.local)
  --dashboard-listen ADDR       serve the dashboard (the page, /api/mesh, /api/events) and /inventory
                                (the mesh's merged inventory: ztmesh inventory --from ADDR) on ADDR,
                                built from the reports sidecars send on their streams (default: off)
  --dashboard-token-file FILE   a bearer token (one line, 16+ printable characters) the dashboard
                                requires; needed for a non-loopback --dashboard-listen
  --dashboard-peers NAME        a DNS name resolving to every operator replica (a headless Service): the
                                dashboard also shows the reports the others hold (needs the token file,
                                the same on every replica, and a fixed --dashboard-listen port)
  --report-grace DURATION       how long a sidecar's report is kept after its stream ends (default 60s)
  --lease-namespace NS          namespace of the leader Lease (default $POD_NAMESPACE or ztmesh-system)
  --lease-name NAME             the leader Lease (default ztmesh-operator-leader, as the chart's RBAC names it)
  --id NAME                     this replica's holder identity (default $POD_NAME or host-pid)
  --log-level LEVEL             default info
`;

const FLAGS = {
  kubeconfig: { type: 'string' },
  'trust-domain': { type: 'string' },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  'bundle-file': { type: 'string' },
  'ca-address': { type: 'string' },
  'ca-token-file': { type: 'string' },
  'ca-bundle-file': { type: 'string' },
  'distribution-listen': { type: 'string' },
  admin: { type: 'string' },
  'webhook-listen': { type: 'string' },
  'injector-config': { type: 'string' },
  'webhook-configuration': { type: 'string' },
  'webhook-dns-names': { type: 'string' },
  'dashboard-listen': { type: 'string' },
  'dashboard-token-file': { type: 'string' },
  'dashboard-peers': { type: 'string' },
  'report-grace': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  id: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function bad(message: string): MeshError {
  return new MeshError('ZTMESH_CLI_BAD_ARGS', message);
}

/**
 * Parses `ztmesh operator` flags into the program's options (undefined for --help); a
 * ZTMESH_CLI_BAD_ARGS error names what is wrong. Exported so a test can check that the chart's
 * rendered Deployment args are accepted.
 */
export function parseOperatorArgs(argv: string[], env: Readonly<Record<string, string | undefined>>, cwd: string): OperatorMainOptions | undefined {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help === true) return undefined;
  const path = (v: string | undefined) => (v === undefined ? undefined : resolve(cwd, v));
  const fromFiles = values['cert-file'] !== undefined || values['key-file'] !== undefined || values['bundle-file'] !== undefined;
  const fromCa = values['ca-address'] !== undefined || values['ca-token-file'] !== undefined || values['ca-bundle-file'] !== undefined;
  if (fromFiles && fromCa) throw bad('give the operator SVID either as files (--cert-file/--key-file/--bundle-file) or from the CA (--ca-address/--ca-token-file/--ca-bundle-file), not both');
  if (!fromFiles && !fromCa) throw bad('the operator needs its SVID: --cert-file/--key-file/--bundle-file, or --ca-address/--ca-token-file/--ca-bundle-file');
  const identity: OperatorMainOptions['identity'] = fromFiles
    ? { kind: 'files', certFile: path(requireFlag(values['cert-file'], 'cert-file'))!, keyFile: path(requireFlag(values['key-file'], 'key-file'))!, bundleFile: path(requireFlag(values['bundle-file'], 'bundle-file'))! }
    : { kind: 'ca', address: requireFlag(values['ca-address'], 'ca-address'), tokenFile: path(requireFlag(values['ca-token-file'], 'ca-token-file'))!, bundleFile: path(requireFlag(values['ca-bundle-file'], 'ca-bundle-file'))! };
  if (identity.kind === 'ca' && !/^[^\s:]+:\d{1,5}$/.test(identity.address)) throw bad(`--ca-address ${JSON.stringify(identity.address)} is not HOST:PORT`);
  const namespace = env['POD_NAMESPACE'] ?? 'ztmesh-system';
  let webhook: OperatorMainOptions['webhook'];
  if (values['webhook-listen'] !== undefined) {
    const dnsNames = (values['webhook-dns-names'] ?? `ztmesh-operator.${namespace}.svc,ztmesh-operator.${namespace}.svc.cluster.local`).split(',').map((n) => n.trim());
    if (dnsNames.some((n) => !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(n))) throw bad(`--webhook-dns-names ${JSON.stringify(values['webhook-dns-names'])} is not a list of DNS names`);
    webhook = {
      listen: values['webhook-listen'],
      injectorConfigFile: path(requireFlag(values['injector-config'], 'injector-config'))!,
      configurationName: values['webhook-configuration'],
      dnsNames,
    };
  } else if (values['injector-config'] !== undefined || values['webhook-configuration'] !== undefined || values['webhook-dns-names'] !== undefined) {
    throw bad('--injector-config, --webhook-configuration and --webhook-dns-names need --webhook-listen');
  }
  let dashboard: OperatorMainOptions['dashboard'];
  if (values['dashboard-listen'] !== undefined) {
    let listen: HostPort;
    try {
      listen = parseHostPort(values['dashboard-listen'], { allowZero: true });
    } catch (err) {
      throw bad(`--dashboard-listen: ${err instanceof Error ? err.message : String(err)}`);
    }
    const tokenFile = path(values['dashboard-token-file']);
    if (tokenFile === undefined && !isLoopbackHost(listen.host)) {
      throw bad(`--dashboard-listen ${values['dashboard-listen']} is not a loopback address: pass --dashboard-token-file FILE to protect the dashboard, or listen on 127.0.0.1`);
    }
    const peers = values['dashboard-peers'];
    if (peers !== undefined) {
      if (tokenFile === undefined) throw bad('--dashboard-peers needs --dashboard-token-file (the replicas read each other with the shared token)');
      if (listen.port === 0) throw bad('--dashboard-peers needs a fixed --dashboard-listen port (the peers listen on the same one)');
      if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(peers)) throw bad(`--dashboard-peers ${JSON.stringify(peers)} is not a DNS name`);
    }
    dashboard = { listen, tokenFile, peers };
  } else if (values['dashboard-token-file'] !== undefined || values['dashboard-peers'] !== undefined) {
    throw bad('--dashboard-token-file and --dashboard-peers need --dashboard-listen');
  }
  let reportGraceMs = 60_000;
  if (values['report-grace'] !== undefined) {
    try {
      reportGraceMs = parseDuration(values['report-grace'], '--report-grace');
    } catch (err) {
      throw bad(err instanceof Error ? err.message : String(err));
    }
  }
  return {
    kubeconfigFile: path(values.kubeconfig),
    dashboard,
    reportGraceMs,
    trustDomain: requireFlag(values['trust-domain'], 'trust-domain'),
    identity,
    distributionListen: values['distribution-listen'] ?? '0.0.0.0:15012',
    adminListen: values.admin ?? '127.0.0.1:15014',
    webhook,
    leaseNamespace: values['lease-namespace'] ?? env['POD_NAMESPACE'] ?? 'ztmesh-system',
    leaseName: values['lease-name'] ?? 'ztmesh-operator-leader',
    holderIdentity: values.id ?? env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    logLevel: values['log-level'] ?? 'info',
  };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const options = parseOperatorArgs(argv, io.env, io.cwd);
  if (options === undefined) {
    io.stdout.write(USAGE);
    return 0;
  }
  const { runOperator } = await import('../../operator/main.ts');
  return runOperator(options);
}
