import { errorCode } from '../core/errors/mesh-error.ts';
import { createLogger, type Logger } from '../core/telemetry/logger.ts';
import type { HostPort } from '../sidecar/config/host-port.ts';
import { startDashboard } from './start-dashboard.ts';

export interface DashboardProgramOptions {
  readonly listen: HostPort;
  readonly sources: readonly string[];
  readonly token: string | undefined;
  readonly intervalMs: number;
  readonly logLevel?: string;
  /** Told the page's address once it serves. */
  readonly onServing: (url: string) => void;
}

/**
 * The `ztmesh dashboard` program: starts the dashboard, serves until SIGTERM/SIGINT, then closes
 * and resolves 0. A start-up failure (bad address, no token for a public address, port taken)
 * propagates as its MeshError for the CLI to print.
 */
export async function runDashboard(o: DashboardProgramOptions): Promise<number> {
  const logger = createLogger({ name: 'ztmesh-dashboard', level: o.logLevel ?? 'info' });
  const dashboard = await startDashboard({ listen: o.listen, sources: o.sources, token: o.token, intervalMs: o.intervalMs, logger });
  logger.info({ url: dashboard.url, sources: o.sources, token: o.token !== undefined }, 'dashboard serving');
  o.onServing(dashboard.url);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await dashboard.close().catch((err: unknown) => logger.warn({ code: errorCode(err) }, 'dashboard did not close cleanly'));
  logger.info({ signal }, 'dashboard stopped');
  await flush(logger);
  return 0;
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
