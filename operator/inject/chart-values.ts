import { readFileSync } from 'node:fs';
import { parseYamlText, validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { type ChartValues, chartValuesSchema } from './values-schema.ts';

/** The chart's own values.yaml, as shipped beside the code. */
export const DEFAULT_VALUES_FILE = new URL('../../charts/ztmesh/values.yaml', import.meta.url);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Helm's merge: maps merge key by key, anything else (lists included) is replaced by the override. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeValues(base[key], value);
  return out;
}

function readYaml(file: string | URL): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_CONFIG_UNREADABLE', `cannot read values file ${String(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return parseYamlText(text, String(file));
}

/** The chart's default values, with a user's values file (as `helm install -f`) merged over them, validated. */
export function loadChartValues(overrideFile?: string): ChartValues {
  const defaults = readYaml(DEFAULT_VALUES_FILE);
  const merged = overrideFile === undefined ? defaults : mergeValues(defaults, readYaml(overrideFile) ?? {});
  return validateConfig(chartValuesSchema, merged, overrideFile ?? 'charts/ztmesh/values.yaml');
}
