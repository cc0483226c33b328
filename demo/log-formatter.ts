import { decisionFromRecord, formatDecision } from './decision-line.ts';
import { terminalSafe } from './terminal-text.ts';

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface LogFormatterOptions {
  /** Also show info/debug lines of the children (default: decisions, warnings and errors only). */
  readonly verbose: boolean;
}

/**
 * Turns one output line of a demo child (the CA or a sidecar: pino JSON lines) into what the
 * terminal shows: a decision line for each audit record, `WARN [source] message` for warnings and
 * errors, nothing for routine info lines unless verbose. Non-JSON output (a crash's stack trace)
 * is shown as it is, made terminal-safe.
 */
export function formatChildLine(source: string, line: string, options: LogFormatterOptions): string | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a record');
    record = parsed as Record<string, unknown>;
  } catch {
    return `       [${source}] ${terminalSafe(trimmed, 400)}`;
  }
  const decision = decisionFromRecord(record);
  if (decision !== undefined) return formatDecision(decision);
  const level = levelName(record['level']);
  if (!options.verbose && (RANK[level] ?? 30) < RANK['warn']!) return undefined;
  const msg = typeof record['msg'] === 'string' ? record['msg'] : typeof record['message'] === 'string' ? record['message'] : '';
  const code = typeof record['code'] === 'string' ? ` (${record['code']})` : errCode(record['err']);
  return `${level.toUpperCase().padEnd(6)} [${source}] ${terminalSafe(msg, 300)}${terminalSafe(code, 80)}`;
}

function levelName(level: unknown): string {
  if (typeof level === 'string') return level;
  if (typeof level === 'number') return PINO_LEVELS[level] ?? 'info';
  return 'info';
}

function errCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && typeof (err as Record<string, unknown>)['code'] === 'string') {
    return ` (${(err as Record<string, unknown>)['code'] as string})`;
  }
  return '';
}
