import { MeshError } from '../core/errors/mesh-error.ts';

/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
/** Guards against a hostile or broken source: more lines than any sidecar exposes. */
export const MAX_SAMPLES = 200_000;

function bad(lineNo: number, why: string): MeshError {
  return new MeshError('ZTMESH_DASHBOARD_BAD_METRICS', `metrics line ${lineNo}: ${why}`, { details: { line: lineNo } });
}

function parseValue(text: string, lineNo: number): number {
  switch (text) {
    case 'NaN': return Number.NaN;
    case '+Inf': case 'Inf': return Number.POSITIVE_INFINITY;
    case '-Inf': return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw bad(lineNo, `value ${JSON.stringify(text.slice(0, 40))} is not a number`);
  return Number(text);
}

/** Parses `{a="x",b="y\"z"}` starting at `line[start] === '{'`; returns the labels and the index after '}'. */
function parseLabels(line: string, start: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = LABEL_NAME.exec(line.slice(i));
    if (m === null) throw bad(lineNo, `expected a label name at column ${i + 1}`);
    const name = m[0];
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw bad(lineNo, `expected ="..." after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw bad(lineNo, `unterminated value of label ${name}`);
      i++;
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = line[i++];
      if (e === 'n') value += '\n';
      else if (e === '\\' || e === '"') value += e;
      else throw bad(lineNo, `invalid escape \\${e ?? ''} in label ${name}`);
    }
    if (name in labels) throw bad(lineNo, `label ${name} repeated`);
    labels[name] = value;
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw bad(lineNo, `expected , or } after label ${name}`);
  }
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4) into samples: comments (`# HELP`,
 * `# TYPE`) are skipped, label values unescaped (`\\`, `\"`, `\n`), `NaN`/`+Inf`/`-Inf` accepted,
 * an optional timestamp ignored. A malformed line is a ZTMESH_DASHBOARD_BAD_METRICS error naming
 * the line: a sidecar that exposes broken text is shown as such rather than half-read.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const lineNo = n + 1;
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = NAME.exec(trimmed);
    if (m === null) throw bad(lineNo, 'expected a metric name');
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (trimmed[i] === '{') ({ labels, end: i } = parseLabels(trimmed, i, lineNo));
    const rest = trimmed.slice(i).trim().split(/[ \t]+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw bad(lineNo, `expected a value after ${name}`);
    if (rest.length === 2 && !/^-?\d+$/.test(rest[1]!)) throw bad(lineNo, 'timestamp is not an integer');
    if (out.length >= MAX_SAMPLES) throw bad(lineNo, `more than ${MAX_SAMPLES} samples`);
    out.push({ name, labels, value: parseValue(rest[0]!, lineNo) });
  }
  return out;
}
