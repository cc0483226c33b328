import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import { trustDomainError } from '../core/spiffe/spiffe-id.ts';
import { createLogger } from '../core/telemetry/logger.ts';
import { buildCredentials } from '../sidecar/tls/build-credentials.ts';
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

function readIdentity(o: OperatorMainOptions): PemIdentity {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const identity = { certChainPem: read(o.certFile, 'certificate chain'), keyPem: read(o.keyFile, 'private key'), bundlePem: read(o.bundleFile, 'trust bundle') };
  // The same checks as a sidecar's own SVID: an X.509-SVID of the trust domain, key matching, chain to the bundle.
  buildCredentials({ certChainPem: identity.certChainPem, privateKey: identity.keyPem, bundlePem: identity.bundlePem, trustDomain: o.trustDomain });
  return identity;
}

/**
 * The operator program: watches the cluster, distributes policies to sidecars, writes status as
 * leader; serves until SIGTERM/SIGINT, then releases the Lease and stops (exit 0). A startup
 * failure is one log line and exit 1.
 */
export async function runOperator(o: OperatorMainOptions): Promise<number> {
  const logger = createLogger({ name: 'ztmesh-operator', level: o.logLevel });
  let running;
  try {
    const tdError = trustDomainError(o.trustDomain);
    if (tdError !== undefined) throw new MeshError('ZTMESH_CONTROL_BAD_OPTIONS', `--trust-domain ${JSON.stringify(o.trustDomain)}: ${tdError}`);
    const kubeConfig = new KubeConfig();
    if (o.kubeconfigFile !== undefined) kubeConfig.loadFromFile(o.kubeconfigFile);
    else kubeConfig.loadFromDefault();
    running = await startOperator({
      kubeConfig,
      trustDomain: o.trustDomain,
      identity: readIdentity(o),
      distributionListen: o.distributionListen,
      adminListen: o.adminListen,
      lease: { namespace: o.leaseNamespace, name: o.leaseName, identity: o.holderIdentity },
      logger,
    });
  } catch (err) {
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
  await running.stop();
  logger.flush();
  return 0;
}
