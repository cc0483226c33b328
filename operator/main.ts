import { KubeConfig } from '@kubernetes/client-node';
import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import { trustDomainError } from '../core/spiffe/spiffe-id.ts';
import { createLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { ExpiringCredentialsRef } from '../sidecar/identity/expiring-credentials-ref.ts';
import { startFileIdentity, type FileIdentitySource } from '../sidecar/identity/file-identity-source.ts';
import { registerIdentityMetrics } from '../sidecar/identity/identity-metrics.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
import type { Credentials } from '../sidecar/tls/credentials.ts';
import type { PemIdentity } from './distribute/mtls-server-credentials.ts';
import { startOperator } from './operator-runtime.ts';

export interface OperatorMainOptions {
  readonly kubeconfigFile: string | undefined;
  readonly trustDomain: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile: string;
  readonly distributionListen: string;
  readonly adminListen: string;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly holderIdentity: string;
  readonly logLevel: string;
}

function pemIdentity(c: Credentials): PemIdentity {
  if (c.tlsOptions === undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', 'credentials carry no PEM material');
  return { certChainPem: c.tlsOptions.cert, keyPem: c.tlsOptions.key, bundlePem: c.tlsOptions.ca };
}

/**
 * The operator program: watches the cluster, distributes policies to sidecars, writes status as
 * leader; serves until SIGTERM/SIGINT, then releases the Lease and stops (exit 0). A startup
 * failure is one log line and exit 1.
 */
export async function runOperator(o: OperatorMainOptions): Promise<number> {
  const logger = createLogger({ name: 'ztmesh-operator', level: o.logLevel });
  let running: Awaited<ReturnType<typeof startOperator>> | undefined;
  let identitySource: FileIdentitySource | undefined;
  try {
    const tdError = trustDomainError(o.trustDomain);
    if (tdError !== undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `--trust-domain ${JSON.stringify(o.trustDomain)}: ${tdError}`);
    const kubeConfig = new KubeConfig();
    if (o.kubeconfigFile !== undefined) kubeConfig.loadFromFile(o.kubeconfigFile);
    else kubeConfig.loadFromDefault();
    // The operator's SVID from files (written by the CA client, cert-manager or a SPIRE agent),
    // checked like a sidecar's own and reloaded when the files change.
    const credentials = new ExpiringCredentialsRef();
    identitySource = await startFileIdentity({
      certFile: o.certFile, keyFile: o.keyFile, bundleFile: o.bundleFile, trustDomain: o.trustDomain,
      credentials, build: buildCredentials, metrics: registerIdentityMetrics(new Registry(), credentials), logger,
    });
    const first = credentials.current;
    if (first === undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `no valid SVID in ${o.certFile}, ${o.keyFile}, ${o.bundleFile} (see the log line before)`);
    running = await startOperator({
      kubeConfig,
      trustDomain: o.trustDomain,
      identity: pemIdentity(first),
      distributionListen: o.distributionListen,
      adminListen: o.adminListen,
      lease: { namespace: o.leaseNamespace, name: o.leaseName, identity: o.holderIdentity },
      logger,
    });
    const operator = running;
    credentials.onSwap((next) => {
      operator.rotateIdentity(pemIdentity(next));
      logger.info({ spiffeId: next.identity, notAfter: new Date(next.notAfter).toISOString() }, 'distribution serving identity rotated');
    });
  } catch (err) {
    identitySource?.close();
    logger.fatal({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'operator failed to start');
    logger.flush();
    return 1;
  }
  logger.info({ distributionPort: running.distributionPort, adminPort: running.adminPort, holder: o.holderIdentity }, 'operator started');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'stopping');
  identitySource?.close();
  await running.stop();
  logger.flush();
  return 0;
}
