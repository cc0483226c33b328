import { errorCode, MeshError } from '../core/errors/mesh-error.ts';
import type { PolicyAuthorizer } from '../core/policy/compile.ts';
import type { DenyList } from '../core/policy/deny-list.ts';
import { formatDuration } from '../core/config/duration.ts';
import { createLogger, type Logger } from '../core/telemetry/logger.ts';
import { registerProcessMetrics } from '../core/telemetry/process-metrics.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { tracingConfigFromEnv } from '../core/telemetry/tracing-config.ts';
import type { TracingSetup } from '../core/telemetry/tracing-setup.ts';
import { jsonRoute, startAdminServer, type AdminRoute, type AdminServer, type Readiness } from './admin/admin-server.ts';
import { anomaliesHandler } from './anomaly/anomalies-handler.ts';
import { AnomalyDetector } from './anomaly/anomaly-detector.ts';
import type { CallerMeasures } from './inbound/caller-guard.ts';
import { ApiInventory } from './inventory/api-inventory.ts';
import { inventoryHandler } from './inventory/inventory-handler.ts';
import { registerConformanceMetrics } from './inventory/conformance-metrics.ts';
import type { RequestObserver } from './telemetry/request-observer.ts';
import { formatHostPort } from './config/host-port.ts';
import type { SidecarConfig } from './config/load-sidecar-config.ts';
import { startCaIdentity, type CaIdentitySource } from './identity/ca-identity-source.ts';
import { ExpiringCredentialsRef } from './identity/expiring-credentials-ref.ts';
import { startFileIdentity, type FileIdentitySource } from './identity/file-identity-source.ts';
import { registerIdentityMetrics } from './identity/identity-metrics.ts';
import { startInbound } from './inbound/inbound-server.ts';
import type { ProxyServer } from './inbound/proxy-server.ts';
import { startOutbound, type ServiceTarget } from './outbound/outbound-server.ts';
import type { DiscoveredServices } from './control/discovered-services.ts';
import { startPolicySource, type PolicySource } from './policy/policy-source.ts';
import { composeObservers } from './telemetry/compose-observers.ts';
import { createRequestObserver } from './telemetry/create-request-observer.ts';
import { RecentDecisions } from './telemetry/recent-decisions.ts';
import { buildCredentials } from './tls/build-credentials.ts';

/**
 * The sidecar program: reads the config, wires identity, policy, telemetry, the admin port and
 * the inbound and outbound listeners, then serves until SIGTERM/SIGINT, when it drains (not ready,
 * stops accepting, lets in-flight requests finish for up to drainGracePeriod) and resolves 0.
 * The config is validated before (loadSidecarConfig: the CLI prints every problem and exits 1);
 * any startup failure here is one log line and exit code 1.
 */
export async function runSidecar(config: SidecarConfig, env: NodeJS.ProcessEnv): Promise<number> {
  const logger = createLogger({ name: 'ztmesh-sidecar', level: config.logLevel });
  const sidecar = new Sidecar(config, logger, env);
  try {
    await sidecar.start();
  } catch (err) {
    logger.fatal({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'sidecar failed to start');
    await sidecar.stop(0);
    await flush(logger);
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // A second signal while draining cuts the grace period short.
  const again = (): void => {
    logger.warn('second signal: closing without waiting for in-flight requests');
    void sidecar.stop(0);
  };
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  logger.info({ signal, drainNoticePeriod: formatDuration(config.drainNoticeMs), drainGracePeriod: formatDuration(config.drainGraceMs) }, 'draining');
  await sidecar.stop(config.drainGraceMs, config.drainNoticeMs);
  logger.info('sidecar stopped');
  await flush(logger);
  return 0;
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

class Sidecar {
  readonly #config: SidecarConfig;
  readonly #logger: Logger;
  readonly #env: NodeJS.ProcessEnv;
  readonly #registry = new Registry();
  readonly #credentials = new ExpiringCredentialsRef();
  #tracing: TracingSetup | undefined = undefined;
  #policy: PolicySource | undefined = undefined;
  #identity: FileIdentitySource | CaIdentitySource | undefined = undefined;
  #admin: AdminServer | undefined = undefined;
  #inbound: ProxyServer | undefined = undefined;
  #outbound: ProxyServer | undefined = undefined;
  #discovered: DiscoveredServices | undefined = undefined;
  #serving = false;
  #draining = false;
  #stopping: Promise<void> | undefined = undefined;

  constructor(config: SidecarConfig, logger: Logger, env: NodeJS.ProcessEnv) {
    this.#config = config;
    this.#logger = logger;
    this.#env = env;
    registerProcessMetrics(this.#registry);
  }

  readiness(): Readiness {
    const missing: string[] = [];
    if (this.#draining) missing.push('draining');
    else if (!this.#serving) missing.push('listeners');
    if (this.#credentials.current === undefined) missing.push('identity');
    if (this.#policy?.authorizer() === undefined) missing.push('policy');
    return { ready: missing.length === 0, missing };
  }

  async start(): Promise<void> {
    const c = this.#config;
    const logger = this.#logger;
    const registry = this.#registry;
    const tracingConfig = tracingConfigFromEnv(this.#env, c.workload.name ?? 'ztmesh-sidecar');
    if (tracingConfig !== undefined) {
      // Loaded only when tracing is configured: the OpenTelemetry SDK is large.
      const { createTracing } = await import('../core/telemetry/tracing-setup.ts');
      this.#tracing = await createTracing(tracingConfig, { registry, scope: 'ztmesh-sidecar' });
    }
    const observer = createRequestObserver({
      registry,
      logger,
      audit: { sampleAllowed: c.audit.sampleAllowed, ...(c.audit.headers !== undefined ? { headers: c.audit.headers } : {}) },
      tracing: this.#tracing,
      workload: { namespace: c.workload.namespace, labels: c.workload.labels, identity: () => this.#credentials.current?.identity },
    });
    // Recent decisions for the admin port's /debug/decisions (read by `ztmesh dashboard`), the API
    // inventory (/inventory, read by `ztmesh inventory`) and anomaly detection (/debug/anomalies).
    const decisions = new RecentDecisions();
    const adminRoutes = new Map<string, AdminRoute>([['/debug/decisions', jsonRoute(() => decisions.snapshot())]]);
    const extra: RequestObserver[] = [decisions];
    // The declared API and its request schemas, compiled now (ajv loaded only when configured); a bad one stops the start.
    const validator = c.requestValidation === undefined ? undefined : (await import('./validation/request-validator.ts')).compileRequestValidation(c.requestValidation);
    // The same state, reported to the operator on the control stream (sidecar/control/sidecar-report.ts).
    const reportParts: { inventory?: ApiInventory; anomalies?: AnomalyDetector } = {};
    if (c.inventory.enabled) {
      const inventory = new ApiInventory({
        service: c.workload.name ?? c.workload.labels['app'] ?? c.workload.namespace, maxRoutes: c.inventory.maxRoutes, responseFields: c.inventory.responseFields, registry,
        ...(validator !== undefined ? { declared: validator.declared } : {}),
      });
      if (validator !== undefined) registerConformanceMetrics(registry, inventory);
      extra.push(inventory);
      reportParts.inventory = inventory;
      adminRoutes.set('/inventory', inventoryHandler(inventory));
    }
    let callerMeasures: CallerMeasures | undefined;
    if (c.anomaly.enabled) {
      const detector = new AnomalyDetector({ config: c.anomaly, logger, registry });
      extra.push(detector);
      reportParts.anomalies = detector;
      adminRoutes.set('/debug/anomalies', anomaliesHandler(detector));
      if (detector.responder.enabled) callerMeasures = detector.responder;
    }
    const observers = composeObservers(observer, ...extra);

    const policyCallbacks = {
      onChange: (authorizer: PolicyAuthorizer) => observer.setPolicyVersion(authorizer.version),
      onDenyListChange: (list: DenyList) => {
        const closed = this.#inbound?.closeWhere((peer) => list.hasSpiffeId(peer.id) || list.hasSerial(peer.serial)) ?? 0;
        logger.info({ closed, entries: list.size }, 'deny list changed; closed connections of listed peers');
      },
    };
    if (c.control !== undefined) {
      // Policies pushed by the operator for this pod (fails closed until the first snapshot).
      const podName = c.control.podName ?? this.#env['POD_NAME'];
      if (podName === undefined || podName === '') {
        throw new MeshError('ZTMESH_CONFIG_INVALID', `${c.source}: control.podName is not set and neither is $POD_NAME; the operator selects policies by pod name`);
      }
      const { startControlPolicySource } = await import('./control/control-policy-source.ts');
      // Endpoint discovery: the services this pod may call, pushed on the same stream, applied to
      // the outbound server through updateService once it exists.
      const { DiscoveredServices } = await import('./control/discovered-services.ts');
      const discovered = new DiscoveredServices({ namespace: c.workload.namespace, trustDomain: c.trustDomain, logger, metrics: registry });
      this.#discovered = discovered;
      adminRoutes.set('/debug/discovery', jsonRoute(() => ({
        version: discovered.version ?? null,
        routes: [...discovered.routes().values()].map((t) => ({ name: t.name, identity: t.identity, endpoints: t.endpoints.map(formatHostPort) })),
      })));
      const { reportBuilder } = await import('./control/sidecar-report.ts');
      const { inventory, anomalies } = reportParts;
      const build = reportBuilder({
        identity: () => this.#credentials.latest, denials: () => decisions.snapshot().denials, requests: () => registry.get('ztmesh_requests_total')?.render() ?? '',
        inventory: inventory === undefined ? undefined : () => inventory.snapshot(), anomalies: anomalies === undefined ? undefined : () => anomalies.recent(),
      });
      this.#policy = startControlPolicySource({
        address: formatHostPort(c.control.address), operatorIdentity: c.control.identity, credentials: () => this.#credentials.current,
        namespace: c.workload.namespace, podName, logger, ...policyCallbacks, report: { intervalMs: c.control.reportIntervalMs, build },
        onDiscovery: (d) => discovered.apply(d),
      });
    } else {
      this.#policy = await startPolicySource({
        policyFile: c.policyFile!,
        meshConfigFile: c.meshConfigFile,
        workload: { namespace: c.workload.namespace, labels: c.workload.labels },
        trustDomain: c.trustDomain,
        metrics: registry,
        logger,
        ...policyCallbacks,
      });
    }
    const policy = this.#policy;

    const identityMetrics = registerIdentityMetrics(registry, this.#credentials);
    const id = c.identity;
    if (id.kind === 'files') {
      this.#identity = await startFileIdentity({ ...id, trustDomain: c.trustDomain, credentials: this.#credentials, build: buildCredentials, metrics: identityMetrics, logger });
    } else {
      // Loaded only in CA mode: the gRPC client is not needed with file identities.
      const { requestSvid } = await import('../ca/client/ca-client.ts');
      this.#identity = startCaIdentity({
        address: formatHostPort(id.address), bundleFile: id.bundleFile, tokenFile: id.tokenFile, caIdentity: id.caIdentity, ttl: id.ttl,
        trustDomain: c.trustDomain, credentials: this.#credentials, build: buildCredentials, requestSvid, metrics: identityMetrics, logger,
      });
    }

    this.#admin = await startAdminServer({
      listen: c.admin, readiness: () => this.readiness(), registry, identity: () => this.#credentials.latest, appProbes: c.appProbes, logger,
      routes: adminRoutes,
    });
    const trustDomains: ReadonlySet<string> = new Set([c.trustDomain]);
    // Loaded only with end-user authentication configured: the JOSE library costs several MB resident.
    const authn = c.requestAuthentication === undefined ? undefined : new (await import('./inbound/inbound-authn.ts')).InboundAuthn(c.requestAuthentication);
    this.#inbound = await startInbound({
      listen: c.inbound.listen, app: c.inbound.app, tcpPorts: new Set(c.inbound.tcpPorts), credentials: this.#credentials, trustDomains,
      authorizer: () => policy.authorizer(), peerAllowed: (peer) => policy.peerAllowed(peer), limits: c.limits, observer: observers, metrics: registry, logger,
      pathNormalization: policy.meshConfig()?.pathNormalization ?? 'strict',
      authn,
      rateLimit: () => policy.meshConfig()?.rateLimit,
      allowedSourceCidrs: c.inbound.allowedSourceCidrs,
      bodyLimits: c.inbound.bodyLimits,
      callerMeasures,
      validator,
    });
    const services = new Map<string, ServiceTarget>(
      c.outbound.services.map((s) => [
        s.name,
        { name: s.name, identity: s.identity, endpoints: s.endpoints, balancer: s.balancer, protocol: s.protocol, ...(s.listen !== undefined ? { listen: s.listen } : {}), ...(s.port !== undefined ? { port: s.port } : {}),
          ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}), ...(s.retry !== undefined ? { retry: s.retry } : {}), routes: s.routes },
      ]),
    );
    const outbound = await startOutbound({ listen: c.outbound.listen, services, credentials: this.#credentials, trustDomains, limits: c.limits, observer: observers, metrics: registry, logger });
    this.#outbound = outbound;
    this.#discovered?.attach(outbound);
    this.#serving = true;
    logger.info(
      {
        admin: formatHostPort(this.#admin.address),
        inbound: formatHostPort(this.#inbound.address),
        outbound: formatHostPort(this.#outbound.address),
        identity: id.kind,
        services: c.outbound.services.map((s) => s.name),
        ready: this.readiness(),
      },
      'sidecar serving',
    );
  }

  /**
   * Not ready, tell peers to go elsewhere (the inbound listener still accepts for `noticeMs`), drain
   * both directions for up to `graceMs`, then close everything. Idempotent; a later call with 0 hurries it.
   */
  stop(graceMs: number, noticeMs = 0): Promise<void> {
    this.#draining = true;
    if (this.#stopping !== undefined && graceMs > 0) return this.#stopping;
    const run = async (): Promise<void> => {
      const servers = [this.#inbound, this.#outbound].filter((s): s is ProxyServer => s !== undefined);
      await Promise.all(servers.map((s) => (graceMs > 0 ? s.drain(graceMs, s === this.#inbound ? noticeMs : 0) : s.close()).catch((err: unknown) => this.#logger.warn({ code: errorCode(err) }, 'listener did not close cleanly'))));
      this.#identity?.close();
      this.#policy?.close();
      await this.#tracing?.shutdown().catch(() => undefined);
      await this.#admin?.close();
    };
    this.#stopping = run();
    return this.#stopping;
  }
}
