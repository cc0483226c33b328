import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { MeshError } from '../errors/mesh-error.ts';

/** One problem found in a config document: where (a dotted path) and what. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const base = formatIssuePath(issue.path);
      const keys = issue.keys.map((k) => (base === '(root)' ? k : `${base}.${k}`));
      return { path: keys.join(', '), message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}` };
    }
    return { path: formatIssuePath(issue.path), message: issue.message };
  });
}

/**
 * Validates `value` once, reporting every issue at once, and returns the typed, frozen result.
 * `source` (a file name or "admission request") is named in the error.
 */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, source: string): Readonly<z.output<S>> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = zodIssues(result.error);
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new MeshError('ZTMESH_CONFIG_INVALID', `${source} is invalid:\n${lines}`, { details: { source, issues } });
  }
  return deepFreeze(result.data) as Readonly<z.output<S>>;
}

export function parseYamlText(text: string, source: string): unknown {
  try {
    return parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new MeshError('ZTMESH_CONFIG_BAD_YAML', `${source} is not valid YAML${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
}

/** Reads a YAML config file, validates it with `schema`, and returns it frozen. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): Readonly<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_CONFIG_UNREADABLE', `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return validateConfig(schema, parseYamlText(text, file), file);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
