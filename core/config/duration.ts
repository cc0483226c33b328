import { MeshError } from '../errors/mesh-error.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses `500ms`, `30s`, `30m`, `1h`, `24h`, `1.5h` into milliseconds; anything else is an error naming the input. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = DURATION.exec(text.trim());
  if (m === null) {
    throw new MeshError('ZTMESH_CONFIG_BAD_DURATION', `${what}: ${JSON.stringify(text)} is not a duration like 30s, 30m, 1h`);
  }
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
