import { Registry } from '../core/telemetry/metrics.ts';
import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { SealKeyRing } from '../core/seal/seal-key.ts';
import { createLogger, type Logger } from '../core/telemetry/logger.ts';
import { startCaServer } from './api/ca-server.ts';
import type { DnsAllowList } from './api/dns-allow-list.ts';
import { DEFAULT_CA_DNS_NAMES } from './api/serving-identity.ts';
import { CallerAuthenticator } from './authn/caller-authenticator.ts';
import { JoinTokenStore } from './authn/join-token-store.ts';
import { kubernetesTokenReviewer } from './authn/token-review.ts';
import { X509Authority } from './issuer/x509-authority.ts';
import type { TtlPolicy } from './issuer/ttl-policy.ts';
import { CA_FILES, loadCaDir } from './store/ca-dir.ts';

export interface CaServeOptions {
  readonly dir: string;
  readonly listen: string;
  readonly ring: SealKeyRing;
  readonly ttlPolicy: TtlPolicy;
  readonly dnsNames?: readonly string[];
  /** Which authenticated callers may ask for which exact DNS SANs (everything else is refused). */
  readonly dnsAllowList?: DnsAllowList;
  /** Accept Kubernetes ServiceAccount tokens through TokenReview, bound to this audience. */
  readonly tokenReview?: { readonly audience: string; readonly kubeconfig?: string | undefined };
  readonly logger?: Logger;
}

/**
 * The `ztmesh ca serve` program: load the CA directory, wire authentication, serve until SIGTERM
 * or SIGINT, then drain. Resolves to the process exit code.
 */
export async function runCaServe(options: CaServeOptions): Promise<number> {
  const logger = options.logger ?? createLogger({ name: 'ztmesh-ca' });
  const audit = logger.child({ component: 'audit' });
  const { meta, material } = await loadCaDir(options.dir, options.ring);
  const authority = await X509Authority.create(material, { ttlPolicy: options.ttlPolicy });
  let reviewer;
  if (options.tokenReview !== undefined) {
    const kubeConfig = new KubeConfig();
    if (options.tokenReview.kubeconfig !== undefined) kubeConfig.loadFromFile(options.tokenReview.kubeconfig);
    else kubeConfig.loadFromDefault();
    reviewer = kubernetesTokenReviewer({ kubeConfig, audience: options.tokenReview.audience, trustDomain: meta.trustDomain });
  }
  const joinTokens = new JoinTokenStore({ file: join(options.dir, CA_FILES.joinTokens), ring: options.ring });
  const authenticator = new CallerAuthenticator({ authority, joinTokens, reviewer });
  // Issuance spans, configured by the standard OTEL_* variables as in the sidecar (off unless set).
  const tracingConfig = tracingConfigFromEnv(process.env, 'ztmesh-ca');
  const tracing = tracingConfig === undefined ? undefined : await (await import('../core/telemetry/tracing-setup.ts')).createTracing(tracingConfig, { registry: new Registry(), scope: 'ztmesh-ca' });
  const server = await startCaServer({ tracer: tracing?.tracer, authority, authenticator, listen: options.listen, logger, audit, dnsNames: options.dnsNames ?? DEFAULT_CA_DNS_NAMES, dnsAllowList: options.dnsAllowList });
  logger.info(
    {
      event: 'ca.listening',
      port: server.port,
      trustDomain: meta.trustDomain,
      spiffeId: server.identity.spiffeId,
      intermediateNotAfter: new Date(authority.intermediateNotAfter).toISOString(),
      tokenReview: options.tokenReview !== undefined,
    },
    'CA serving',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ event: 'ca.stopping', signal }, 'CA stopping');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
  await tracing?.shutdown().catch(() => undefined);
  logger.flush();
  return 0;
}
