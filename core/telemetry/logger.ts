import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors in every ztmesh log line: credentials never reach a log, whatever a caller
 * passes in. Request headers are logged only through these names.
 */
export const REDACT_PATHS: readonly string[] = [
  'token', '*.token', 'joinToken', '*.joinToken', 'password', '*.password', 'secret', '*.secret',
  'key', '*.key', 'privateKey', '*.privateKey', 'sealKey', '*.sealKey',
  'authorization', '*.authorization', 'cookie', '*.cookie', 'set-cookie', '*["set-cookie"]',
  'headers.authorization', 'headers.cookie', 'headers["proxy-authorization"]', 'headers["x-api-key"]',
];

export interface LoggerOptions {
  readonly name: string;
  readonly level?: string;
  readonly destination?: DestinationStream;
}

/** The JSON logger every ztmesh program uses: one line per event, ISO time, secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env['ZTMESH_LOG_LEVEL'] ?? 'info';
  return pino(
    {
      name: options.name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests and libraries used without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
