import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshError } from '../core/errors/mesh-error.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { startDashboard, type RunningDashboard } from '../dashboard/start-dashboard.ts';
import { frontendHandler } from './apps/frontend-app.ts';
import { ordersHandler } from './apps/orders-app.ts';
import { paymentsHandler } from './apps/payments-app.ts';
import { startApp, type AppHandler, type DemoApp } from './apps/app-server.ts';
import { createJoinToken, initCa, writeBundle } from './ca-setup.ts';
import { DemoChild, describeExit, ztmeshArgs } from './child-process.ts';
import { demoPolicyYaml } from './demo-policies.ts';
import { formatChildLine } from './log-formatter.ts';
import { MeshClient } from './mesh-client.ts';
import { assertPortsFree } from './port-check.ts';
import { httpOk, tcpAccepts, waitUntilReady } from './readiness.ts';
import { demoSidecarYaml } from './sidecar-config.ts';
import { terminalSafe } from './terminal-text.ts';
import { prepareStateDir, type StateDir } from './state-dir.ts';
import { DEMO_SERVICE_NAMES, DEMO_TRUST_DOMAIN, demoTopology, listPorts, type DemoServiceName, type DemoTopology } from './topology.ts';

const DASHBOARD_PORT = 8090;

export interface LocalDemoOptions {
  /** Keep state here (must be new or empty); default: a temporary directory removed at shutdown. */
  readonly stateDir: string | undefined;
  readonly portOffset: number;
  /** Show the children's info lines too, not just decisions, warnings and errors. */
  readonly verbose: boolean;
  /** The environment the children inherit (PATH, ...); the demo adds its generated seal key. */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Where the demo's terminal lines go, one call per line. */
  readonly print: (line: string) => void;
  readonly readyTimeoutMs?: number;
  /** How long a stopping child may drain before SIGKILL. */
  readonly stopGraceMs?: number;
}

/**
 * The local mesh behind `npm start`: the CA and three sidecars as real `ztmesh` child processes,
 * the three demo apps in this process behind them. `start()` brings it up in order and can be
 * aborted; `stop()` works at any point and tears down whatever was started; `failed` resolves
 * when a child dies while the demo runs.
 */
export class LocalDemo {
  readonly topology: DemoTopology;
  readonly failed: Promise<MeshError>;
  readonly #options: LocalDemoOptions;
  readonly #children: DemoChild[] = [];
  readonly #apps: DemoApp[] = [];
  readonly #clients: MeshClient[] = [];
  #dashboard: RunningDashboard | undefined = undefined;
  #state: StateDir | undefined = undefined;
  #stopping = false;
  #failure: MeshError | undefined = undefined;
  readonly #failedDuringStart = new AbortController();
  #fail: (err: MeshError) => void = () => {};

  constructor(options: LocalDemoOptions) {
    this.#options = options;
    this.topology = demoTopology(options.portOffset);
    this.failed = new Promise((resolve) => {
      this.#fail = resolve;
    });
  }

  /**
   * Brings the mesh up. Stops early, throwing, when `userAbort` fires or a child dies meanwhile
   * (then the error is that child's ZTMESH_DEMO_CHILD_EXITED). Call `stop()` afterwards either way.
   */
  async start(userAbort: AbortSignal): Promise<void> {
    const abort = AbortSignal.any([userAbort, this.#failedDuringStart.signal]);
    try {
      await this.#start(abort);
    } catch (err) {
      throw this.#failure ?? err;
    }
  }

  async #start(abort: AbortSignal): Promise<void> {
    const { print } = this.#options;
    const step = (): void => {
      if (abort.aborted) throw new MeshError('ZTMESH_DEMO_NOT_READY', 'start-up interrupted');
    };
    await assertPortsFree([...listPorts(this.topology), { port: this.dashboardPort, role: 'dashboard' }]);
    this.#state = await prepareStateDir(this.#options.stateDir, this.#options.cwd);
    const dir = this.#state.path;
    // The seal key lives only in memory and in the CA processes' environment, never on disk; the
    // sidecars do not get it (nor any seal key the user's shell may hold).
    const { ZTMESH_SEAL_KEY: _inherited, ...sidecarEnv } = this.#options.env;
    const env: NodeJS.ProcessEnv = { ...sidecarEnv, ZTMESH_SEAL_KEY: randomBytes(32).toString('base64') };
    const caDir = join(dir, 'ca');
    const bundleFile = join(dir, 'bundle.pem');
    const policyFile = join(dir, 'policy.yaml');
    print(`ztmesh demo: state in ${dir}`);

    await initCa(caDir, DEMO_TRUST_DOMAIN, env, dir);
    step();
    // Bundle, policies, and each service's join token and sidecar config, all at once (the CA
    // directory's file lock serialises the token writes).
    const prepared = Promise.all(
      DEMO_SERVICE_NAMES.map(async (name) => {
        const service = this.topology.services[name];
        const serviceDir = join(dir, name);
        await mkdir(serviceDir, { mode: 0o700 });
        const tokenFile = join(serviceDir, 'token');
        await createJoinToken(caDir, service.identity, tokenFile, env, dir);
        const configFile = join(serviceDir, 'sidecar.yaml');
        await writeFile(configFile, demoSidecarYaml(this.topology, service, { bundleFile, tokenFile, policyFile }), { mode: 0o644 });
        return { name, serviceDir, configFile };
      }),
    );
    await Promise.all([writeBundle(caDir, bundleFile, env, dir), writeFile(policyFile, demoPolicyYaml(), { mode: 0o644 }), prepared]);
    const configFiles = await prepared;
    step();
    const ca = this.#spawn('ca', ztmeshArgs('ca', 'serve', '--dir', caDir, '--listen', `127.0.0.1:${this.topology.caPort}`), env, dir);
    await waitUntilReady(ca, 'listening on its port', () => tcpAccepts(this.topology.caPort), this.#readyTimeout(), abort);
    print(`ztmesh demo: CA ready on 127.0.0.1:${this.topology.caPort} (trust domain ${DEMO_TRUST_DOMAIN})`);

    await this.#startApps();
    step();
    const sidecars = configFiles.map(({ name, serviceDir, configFile }) => ({
      child: this.#spawn(`${name}-sidecar`, ztmeshArgs('sidecar', '--config', configFile), sidecarEnv, serviceDir),
      admin: this.topology.services[name].ports.admin,
    }));
    await Promise.all(
      sidecars.map(({ child, admin }) =>
        waitUntilReady(child, 'ready (admin /ready)', () => httpOk(admin, '/ready'), this.#readyTimeout(), abort),
      ),
    );
    for (const name of DEMO_SERVICE_NAMES) {
      const s = this.topology.services[name];
      print(`ztmesh demo: ${name.padEnd(8)} ${s.identity}  app :${s.ports.app}  sidecar in :${s.ports.inbound} out :${s.ports.outbound} admin :${s.ports.admin}`);
    }
    step();
    // The dashboard, in this process, reading the three sidecars' admin ports (loopback only).
    this.#dashboard = await startDashboard({
      listen: { host: '127.0.0.1', port: this.dashboardPort },
      sources: DEMO_SERVICE_NAMES.map((name) => `127.0.0.1:${this.topology.services[name].ports.admin}`),
      token: undefined,
      intervalMs: 1000,
      logger: silentLogger(),
    });
    print(`ztmesh demo: dashboard ${this.#dashboard.url}`);
  }

  /** The dashboard's port: 8090 plus the port offset. */
  get dashboardPort(): number {
    return DASHBOARD_PORT + this.#options.portOffset;
  }

  /** Stops the sidecars (they drain), then the CA, then the apps; removes a temporary state dir. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const grace = this.#options.stopGraceMs ?? 5000;
    await this.#dashboard?.close();
    const sidecars = this.#children.filter((c) => c.name !== 'ca');
    await Promise.all(sidecars.map((c) => c.stop(grace)));
    await Promise.all(this.#children.filter((c) => c.name === 'ca').map((c) => c.stop(grace)));
    await Promise.all(this.#apps.map((app) => app.close()));
    for (const client of this.#clients) client.close();
    await this.#state?.cleanUp();
  }

  /** Last resort, synchronous: SIGKILL every child still running (the process is exiting). */
  killNow(): void {
    for (const child of this.#children) child.killNow();
  }

  #readyTimeout(): number {
    return this.#options.readyTimeoutMs ?? 60_000;
  }

  #spawn(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): DemoChild {
    if (this.#stopping) throw new MeshError('ZTMESH_DEMO_NOT_READY', `not starting ${name}: the demo is stopping`);
    const { print, verbose } = this.#options;
    const child = new DemoChild({ name, args, env, cwd }, (source, line) => {
      const shown = formatChildLine(source, line, { verbose });
      if (shown !== undefined) print(shown);
    });
    this.#children.push(child);
    void child.exited.then((exit) => {
      if (!this.#stopping && this.#failure === undefined) {
        this.#failure = new MeshError('ZTMESH_DEMO_CHILD_EXITED', `${name} ${describeExit(exit)} (see its output above)`, { details: { child: name } });
        this.#fail(this.#failure);
        this.#failedDuringStart.abort();
      }
    });
    return child;
  }

  async #startApps(): Promise<void> {
    const services = this.topology.services;
    const client = (name: DemoServiceName): MeshClient => {
      const c = new MeshClient({ outboundPort: services[name].ports.outbound });
      this.#clients.push(c);
      return c;
    };
    const handlers: Record<DemoServiceName, AppHandler> = {
      frontend: frontendHandler(services.frontend.identity, client('frontend')),
      orders: ordersHandler(services.orders.identity, client('orders')),
      payments: paymentsHandler(services.payments.identity),
    };
    for (const name of DEMO_SERVICE_NAMES) {
      const onError = (err: unknown): void => this.#options.print(`ERROR  [${name} app] ${terminalSafe(err instanceof Error ? err.message : String(err))}`);
      this.#apps.push(await startApp(name, '127.0.0.1', services[name].ports.app, handlers[name], onError));
    }
  }
}
