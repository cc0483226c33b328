import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import type { TracingSetup } from '../core/telemetry/tracing-setup.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import { trustDomainError } from '../core/spiffe/spiffe-id.ts';
import { createLogger, type Logger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { ExpiringCredentialsRef } from '../sidecar/identity/expiring-credentials-ref.ts';
import { startFileIdentity } from '../sidecar/identity/file-identity-source.ts';
import { registerIdentityMetrics } from '../sidecar/identity/identity-metrics.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import type { Credentials } from '../sidecar/tls/credentials.ts';
import type { PemIdentity } from './distribute/mtls-server-credentials.ts';
import { startCaSvidSource } from './identity/ca-svid-source.ts';
import { startOperator } from './operator-runtime.ts';
import { loadToken } from '../dashboard/access-control.ts';
import type { HostPort } from '../sidecar/config/host-port.ts';
import { startInjectionWebhook, type RunningInjectionWebhook } from './webhook-cert/injection-webhook.ts';
import { SelfManagedWebhookCa } from './webhook-cert/self-managed-webhook-ca.ts';
import type { WebhookServingSource } from './webhook-cert/webhook-serving-source.ts';

export interface OperatorMainOptions {
  readonly kubeconfigFile: string | undefined;
  readonly trustDomain: string;
  /** Where the operator's SVID comes from: files (reloaded when they change) or the mesh CA (renewed at half-life). */
  readonly identity:
    | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string; readonly bundleFile: string }
    | { readonly kind: 'ca'; readonly address: string; readonly tokenFile: string; readonly bundleFile: string };
  readonly distributionListen: string;
  readonly adminListen: string;
  /** The injection webhook, served in the same process when set. */
  readonly webhook: { readonly listen: string; readonly injectorConfigFile: string; readonly configurationName: string | undefined; readonly dnsNames: readonly string[] } | undefined;
  /** The dashboard and merged inventory of the sidecars' reports (`--dashboard-listen`), or undefined. */
  readonly dashboard: { readonly listen: HostPort; readonly tokenFile: string | undefined; readonly peers?: string | undefined } | undefined;
  /** How long a sidecar's report outlives its stream (`--report-grace`). */
  readonly reportGraceMs: number;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly holderIdentity: string;
  readonly logLevel: string;
}

function pemIdentity(c: Credentials): PemIdentity {
  if (c.tlsOptions === undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', 'credentials carry no PEM material');
  return { certChainPem: c.tlsOptions.cert, keyPem: c.tlsOptions.key, bundlePem: c.tlsOptions.ca };
}

/** The operator's SVID, first one now, rotations through `onRotate`; returns the first and a closer. */
async function startIdentity(o: OperatorMainOptions, logger: Logger, onRotate: (identity: PemIdentity) => void): Promise<{ first: PemIdentity; close(): void }> {
  if (o.identity.kind === 'ca') {
    return startCaSvidSource({ address: o.identity.address, tokenFile: o.identity.tokenFile, bundleFile: o.identity.bundleFile, logger, onRenew: onRotate });
  }
  // From files (written by the CA client, cert-manager or a SPIRE agent), checked like a sidecar's
  // own and reloaded when the files change.
  const { certFile, keyFile, bundleFile } = o.identity;
  const credentials = new ExpiringCredentialsRef();
  const source = await startFileIdentity({
    certFile, keyFile, bundleFile, trustDomain: o.trustDomain,
    credentials, build: buildCredentials, metrics: registerIdentityMetrics(new Registry(), credentials), logger,
  });
  const first = credentials.current;
  if (first === undefined) {
    source.close();
    throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `no valid SVID in ${certFile}, ${keyFile}, ${bundleFile} (see the log line before)`);
  }
  credentials.onSwap((next) => onRotate(pemIdentity(next)));
  return { first: pemIdentity(first), close: () => source.close() };
}

/**
 * The webhook's serving certificate: from the mesh CA when the operator gets its SVID there (the
 * same SPIFFE ID plus the Service's DNS names, which the CA's --allow-dns list must grant; the
 * caBundle is then the mesh trust bundle, the same for every replica), else from an in-memory
 * webhook CA of this process (only right for a single replica: each has its own CA).
 */
async function startWebhookServing(o: OperatorMainOptions, dnsNames: readonly string[], logger: Logger): Promise<{ serving: WebhookServingSource; close(): void }> {
  if (o.identity.kind === 'ca') {
    const source = await startCaSvidSource({ address: o.identity.address, tokenFile: o.identity.tokenFile, bundleFile: o.identity.bundleFile, dnsNames, logger });
    const serving: WebhookServingSource = {
      current: () => ({ certPem: source.current().certChainPem, keyPem: source.current().keyPem }),
      caBundle: () => source.current().bundlePem,
    };
    return { serving, close: () => source.close() };
  }
  logger.warn('the webhook serving certificate comes from an in-memory CA of this replica (the SVID is from files); run one replica, or take the SVID from the CA');
  return { serving: await SelfManagedWebhookCa.create({ dnsNames }), close: () => undefined };
}

/**
 * The operator program: watches the cluster, distributes policies to sidecars, writes status (and
 * the webhook's caBundle) as leader, serves the injection webhook; serves until SIGTERM/SIGINT,
 * then releases the Lease and stops (exit 0). A startup failure is one log line and exit 1.
 */
export async function runOperator(o: OperatorMainOptions): Promise<number> {
  const logger = createLogger({ name: 'ztmesh-operator', level: o.logLevel });
  let running: Awaited<ReturnType<typeof startOperator>> | undefined;
  let identity: { first: PemIdentity; close(): void } | undefined;
  let webhook: RunningInjectionWebhook | undefined;
  let closeServing: () => void = () => undefined;
  let tracing: TracingSetup | undefined;
  try {
    const tdError = trustDomainError(o.trustDomain);
    if (tdError !== undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `--trust-domain ${JSON.stringify(o.trustDomain)}: ${tdError}`);
    const kubeConfig = new KubeConfig();
    if (o.kubeconfigFile !== undefined) kubeConfig.loadFromFile(o.kubeconfigFile);
    else kubeConfig.loadFromDefault();
    identity = await startIdentity(o, logger, (next) => {
      running?.rotateIdentity(next);
      logger.info('distribution serving identity rotated');
    });
    // Reconcile and admission spans, configured by the standard OTEL_* variables (off unless set).
    const tracingConfig = tracingConfigFromEnv(process.env, 'ztmesh-operator');
    tracing = tracingConfig === undefined ? undefined : await (await import('../core/telemetry/tracing-setup.ts')).createTracing(tracingConfig, { registry: new Registry(), scope: 'ztmesh-operator' });
    const dashboardToken = o.dashboard?.tokenFile === undefined ? undefined : await loadToken(o.dashboard.tokenFile);
    running = await startOperator({
      tracer: tracing?.tracer,
      reportGraceMs: o.reportGraceMs,
      dashboard: o.dashboard === undefined ? undefined : { listen: o.dashboard.listen, token: dashboardToken, peers: o.dashboard.peers },
      kubeConfig,
      trustDomain: o.trustDomain,
      identity: identity.first,
      distributionListen: o.distributionListen,
      adminListen: o.adminListen,
      lease: { namespace: o.leaseNamespace, name: o.leaseName, identity: o.holderIdentity },
      logger,
      onLeadershipChange: () => void webhook?.syncCaBundle(),
    });
    const operator = running;
    if (o.webhook !== undefined) {
      const { serving, close } = await startWebhookServing(o, o.webhook.dnsNames, logger);
      closeServing = close;
      webhook = await startInjectionWebhook({
        listen: o.webhook.listen, injectorConfigFile: o.webhook.injectorConfigFile, configurationName: o.webhook.configurationName,
        serving, kubeConfig, isLeader: () => operator.isLeader(), logger, tracer: tracing?.tracer,
      });
      void webhook.syncCaBundle();
    }
  } catch (err) {
    identity?.close();
    closeServing();
    await running?.stop();
    logger.fatal({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'operator failed to start');
    logger.flush();
    return 1;
  }
  logger.info({ distributionPort: running.distributionPort, adminPort: running.adminPort, dashboardPort: running.dashboardPort, dashboardToken: o.dashboard?.tokenFile !== undefined, webhookPort: webhook?.port, holder: o.holderIdentity }, 'operator started');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'stopping');
  identity.close();
  closeServing();
  await webhook?.close();
  await running.stop();
  await tracing?.shutdown().catch(() => undefined);
  logger.flush();
  return 0;
}
