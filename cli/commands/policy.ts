import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfigFile } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { normalizePath } from '../../core/http/normalize-path.ts';
import { buildRequestAttributes } from '../../core/policy/build-request.ts';
import { compilePolicies } from '../../core/policy/compile.ts';
import type { Decision } from '../../core/policy/decision.ts';
import { formatExplanation } from '../../core/policy/explain-text.ts';
import { formatPolicyIssue, loadPolicyFiles } from '../../core/policy/load-policies.ts';
import { defaultMeshConfig, meshConfigSchema, type MeshConfig } from '../../core/policy/mesh-config.ts';
import { REASONS } from '../../core/policy/reasons.ts';
import { parseSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { AuthorizationPolicy } from '../../core/policy/schema.ts';
import { simulateAuditLog, type SimulationResult } from '../../core/policy/simulate.ts';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage:
  ztmesh policy check FILE...
  ztmesh policy explain --policy FILE [--policy FILE...] [--mesh-config FILE] --namespace NS
      --labels k=v[,k=v] --principal SPIFFE_ID|none [--source-ip IP] [--port N] [--host H]
      --method M --path P [--header k=v]... [--claims JSON] [--request-principal ISS/SUB] [--json]
  ztmesh policy simulate --policy FILE [--policy FILE...] [--mesh-config FILE] --log AUDIT_LOG [--json]
  ztmesh policy suggest [--from ADMIN_ADDR,...] [--namespace NS] [--selector-label KEY]

check     validates policy files; prints every error as FILE: document N: field.path: message
explain   evaluates one request with the sidecar's evaluator (path normalized first) and says why;
          --principal none: a source without a mesh identity; --port defaults to 80; --claims are
          a validated token's claims (ISS/SUB taken from iss and sub unless --request-principal)
simulate  replays an audit log against candidate policies and lists decisions that would change
suggest   writes ALLOW policies naming exactly the callers, methods and routes the sidecars observed
`;

function badArgs(message: string): MeshError {
  return new MeshError('ZTMESH_CLI_BAD_ARGS', message);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check': return check(rest, io);
    case 'explain': return explain(rest, io);
    case 'simulate': return simulate(rest, io);
    case 'suggest': return (await import('./inventory.ts')).runSuggest(rest, io);
    case undefined:
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw badArgs(`unknown policy subcommand '${sub}' (check, explain, simulate, suggest)`);
  }
}

/** Loads the policy files; on any issue prints them all to stderr and returns undefined (exit 1). */
function loadOrReport(files: readonly string[], io: CliIo): AuthorizationPolicy[] | undefined {
  const { policies, issues } = loadPolicyFiles(files);
  if (issues.length > 0) {
    for (const issue of issues) io.stderr.write(`${formatPolicyIssue(issue)}\n`);
    io.stderr.write(`ztmesh policy: ${issues.length} error${issues.length === 1 ? '' : 's'} in the policy files; nothing evaluated\n`);
    return undefined;
  }
  return policies.map((p) => p.policy);
}

function loadMesh(file: string | undefined): MeshConfig {
  return file === undefined ? defaultMeshConfig() : loadConfigFile(meshConfigSchema, file);
}

async function check(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw badArgs('policy check needs at least one FILE');
  const { policies, issues } = loadPolicyFiles(positionals);
  for (const issue of issues) io.stdout.write(`${formatPolicyIssue(issue)}\n`);
  if (issues.length > 0) return 1;
  io.stdout.write(`OK: ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'} in ${positionals.length} file${positionals.length === 1 ? '' : 's'}\n`);
  return 0;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badArgs(`--labels: ${JSON.stringify(pair)} is not k=v`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

function parseHeaders(list: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw badArgs(`--header: ${JSON.stringify(item)} is not name=value`);
    const name = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1);
    // As a proxy joins repeated header fields.
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function parseClaims(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badArgs('--claims is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badArgs('--claims must be a JSON object');
  return value as Record<string, unknown>;
}

/** A SPIFFE ID, or "none" for a source without a mesh identity. */
function parsePrincipal(text: string): string | null {
  if (text === 'none') return null;
  try {
    return parseSpiffeId(text).id;
  } catch (err) {
    throw new MeshError('ZTMESH_CLI_BAD_ARGS', `--principal: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 80;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw badArgs(`--port: ${JSON.stringify(text)} is not a port 1..65535`);
  return Number(text);
}

const EXPLAIN_FLAGS = {
  policy: { type: 'string', multiple: true },
  'mesh-config': { type: 'string' },
  namespace: { type: 'string' },
  labels: { type: 'string' },
  principal: { type: 'string' },
  'source-ip': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  method: { type: 'string' },
  path: { type: 'string' },
  header: { type: 'string', multiple: true },
  claims: { type: 'string' },
  'request-principal': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function explain(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, EXPLAIN_FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const files = values.policy ?? [];
  if (files.length === 0) throw badArgs('missing required flag --policy');
  const namespace = requireFlag(values.namespace, 'namespace');
  const labels = parseLabels(requireFlag(values.labels, 'labels'));
  const principalFlag = requireFlag(values.principal, 'principal');
  const method = requireFlag(values.method, 'method');
  const rawPath = requireFlag(values.path, 'path');
  const claims = parseClaims(values.claims);
  const headers = parseHeaders(values.header ?? []);
  const port = parsePort(values.port);
  const sourceIp = values['source-ip'] ?? '';
  if (sourceIp !== '' && !/^[0-9A-Fa-f.:]+$/.test(sourceIp)) throw badArgs(`--source-ip: ${JSON.stringify(sourceIp)} is not an IP address`);
  // An end-user principal is ISS/SUB of a validated token: given, or read from the claims.
  const requestPrincipal =
    values['request-principal'] ??
    (typeof claims?.['iss'] === 'string' && typeof claims['sub'] === 'string' ? `${claims['iss']}/${claims['sub']}` : undefined);
  const attributes = { principal: parsePrincipal(principalFlag), sourceIp, port, method, host: values.host, headers, requestPrincipal, claims };

  const mesh = loadMesh(values['mesh-config']);
  const policies = loadOrReport(files, io);
  if (policies === undefined) return 1;

  const normalized = normalizePath(rawPath, mesh.pathNormalization);
  let decision: Decision;
  let text: string;
  if (!normalized.ok) {
    decision = { decision: 'DENY', policy: null, rule: null, reason: `${REASONS.pathRefused}: ${normalized.code}`, audit: false, dryRun: [] };
    text = `decision: DENY\nreason:   ${decision.reason}\npath:     ${JSON.stringify(rawPath)}: ${normalized.reason}; the sidecar answers 400 before any policy runs\n`;
  } else {
    const authorizer = compilePolicies(policies, { namespace, labels }, mesh);
    const explanation = authorizer.explain(buildRequestAttributes({ ...attributes, path: normalized.path }));
    decision = explanation.decision;
    text = formatExplanation(explanation, { raw: rawPath, normalized: normalized.path });
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ decision: decision.decision, policy: decision.policy, rule: decision.rule, reason: decision.reason })}\n`);
  } else {
    io.stdout.write(text);
  }
  return 0;
}

async function simulate(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    policy: { type: 'string', multiple: true },
    'mesh-config': { type: 'string' },
    log: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const files = values.policy ?? [];
  if (files.length === 0) throw badArgs('missing required flag --policy');
  const logFile = requireFlag(values.log, 'log');
  const mesh = loadMesh(values['mesh-config']);
  const policies = loadOrReport(files, io);
  if (policies === undefined) return 1;

  const stream = createReadStream(logFile, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new MeshError('ZTMESH_CONFIG_UNREADABLE', `cannot read audit log ${logFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const result = await simulateAuditLog(lines, policies, mesh);
  io.stdout.write(values.json ? `${JSON.stringify(simulationJson(result))}\n` : simulationTable(result));
  return 0;
}

function simulationJson(r: SimulationResult) {
  return {
    records: r.records,
    skipped: { other: r.skippedOther, malformed: r.malformed },
    changed: r.changed.map((c) => ({
      line: c.line,
      time: c.record.time,
      source: c.record.source.principal ?? c.record.source.ip,
      destination: `${c.record.destination.namespace}/${Object.entries(c.record.destination.labels).map(([k, v]) => `${k}=${v}`).join(',')}`,
      method: c.record.request.method,
      path: c.record.request.path,
      before: c.before,
      after: c.after.decision,
      policy: c.after.policy,
      rule: c.after.rule,
      reason: c.after.reason,
    })),
  };
}

function simulationTable(r: SimulationResult): string {
  const head = `${r.records} audit record${r.records === 1 ? '' : 's'} replayed, ${r.changed.length} decision${r.changed.length === 1 ? '' : 's'} would change` +
    ` (skipped ${r.skippedOther} other line${r.skippedOther === 1 ? '' : 's'}, ${r.malformed} malformed)\n`;
  if (r.changed.length === 0) return head;
  const rows = simulationJson(r).changed.map((c) => [String(c.line), c.source, c.destination, `${c.method ?? 'TCP'} ${c.path ?? ''}`.trim(), `${c.before} -> ${c.after}`, c.policy === null ? c.reason : `${c.policy} rule ${c.rule}`]);
  const header = ['LINE', 'SOURCE', 'DESTINATION', 'REQUEST', 'CHANGE', 'NOW DECIDED BY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return `${head}\n${[header, ...rows].map(fmt).join('\n')}\n`;
}
