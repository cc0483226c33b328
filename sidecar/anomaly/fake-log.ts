import { createLogger, type Logger } from '../../core/telemetry/logger.ts';

/** Test helper: a real pino logger whose JSON lines are kept in memory. */
export function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createLogger({ name: 'test', level: 'info', destination: { write: (s: string) => void raw.push(s) } });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
