import { MeshError } from '../../core/errors/mesh-error.ts';
import { suggestPolicies, suggestionYaml } from '../../core/policy/suggest.ts';
import { demoTopology, DEMO_SERVICE_NAMES } from '../../demo/topology.ts';
import type { InventorySnapshot } from '../../sidecar/inventory/api-inventory.ts';
import { loadToken } from '../../dashboard/access-control.ts';
import { fetchInventory } from '../../sidecar/inventory/fetch-inventory.ts';
import { openApiDocument } from '../../sidecar/inventory/openapi-document.ts';
import { parseFlags } from '../args.ts';
import type { CliIo } from '../io.ts';

const USAGE = `Usage: ztmesh inventory [--from ADMIN_ADDR[,ADMIN_ADDR...]] [--token-file FILE] [--json] [--openapi SERVICE]

Lists the APIs the mesh serves, as the sidecars observed them (GET /inventory on their admin ports):
service, method, route template, callers, count, last seen, sensitive response fields, and whether
the route is declared in the workload's API (the sidecar's requestValidation: its OpenAPI document and
inline routes; an undeclared route is a shadow API). Below the table: which callers received sensitive
fields, routes that answered malformed JSON, and declared routes never called (zombies).
Response fields are the top-level names and JSON types (never values) of sampled JSON responses.

  --from        sidecar admin addresses, or the operator's --dashboard-listen address (its merged
                inventory of every sidecar's report); default: the local demo mesh, 127.0.0.1:15000,16000,17000
  --token-file  a file with the bearer token of an operator started with --dashboard-token-file
  --json        {"apis":[{"service","method","route","callers","count","lastSeen","responseFields","sensitive","declared",
                "sensitiveCallers","requestContentTypes","responseContentTypes","malformedBodies"}],"zombies":[...],"overflow":{...}}
  --openapi     print an OpenAPI 3 document of what SERVICE was observed serving (response schemas from the observed fields)
`;

function defaultSources(): string[] {
  const t = demoTopology();
  return DEMO_SERVICE_NAMES.map((n) => `127.0.0.1:${t.services[n].ports.admin}`);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    from: { type: 'string' },
    json: { type: 'boolean' },
    openapi: { type: 'string' },
    'token-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const sources = values.from === undefined ? defaultSources() : values.from.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (sources.length === 0) throw new MeshError('ZTMESH_CLI_BAD_ARGS', '--from names no admin address');
  const token = values['token-file'] === undefined ? undefined : await loadToken(values['token-file']);
  const snapshots = await Promise.all(sources.map((addr) => fetchInventory(addr, 5000, token)));
  const apis = snapshots.flatMap((s) => s.apis);

  if (values.openapi !== undefined) {
    // The operator's merged inventory (`service: '*'`) holds many services: each API names its own.
    if (!snapshots.some((s) => s.service === values.openapi || s.apis.some((a) => a.service === values.openapi))) {
      throw new MeshError('ZTMESH_INVENTORY_UNKNOWN_SERVICE', `no sidecar reported service '${values.openapi}' (reported: ${snapshots.map((s) => s.service).join(', ')})`);
    }
    io.stdout.write(`${JSON.stringify(openApiDocument(values.openapi, apis), null, 2)}\n`);
    return 0;
  }
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(jsonReport(snapshots), null, 2)}\n`);
    return 0;
  }
  io.stdout.write(table(snapshots));
  return 0;
}

const SUGGEST_USAGE = `Usage: ztmesh policy suggest [--from ADMIN_ADDR[,ADMIN_ADDR...]] [--namespace NS] [--selector-label KEY]

Writes AuthorizationPolicies (YAML, for review) generated from the traffic the sidecars observed:
per destination service one ALLOW policy naming exactly the callers, methods and route paths seen
(route ids become the one-segment template {*}). Try them with 'policy simulate' and 'policy check'.

  --from            sidecar admin addresses (default: the local demo mesh)
  --namespace       the namespace of the policies and their workloads (default: shop, the demo's)
  --selector-label  the label selecting a service's workload, KEY=<service> (default: app)
`;

/** ztmesh policy suggest (dispatched from cli/commands/policy.ts): the inventory as least-privilege policies. */
export async function runSuggest(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    from: { type: 'string' },
    namespace: { type: 'string' },
    'selector-label': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(SUGGEST_USAGE);
    return 0;
  }
  const namespace = values.namespace ?? 'shop';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `--namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
  const sources = values.from === undefined ? defaultSources() : values.from.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (sources.length === 0) throw new MeshError('ZTMESH_CLI_BAD_ARGS', '--from names no admin address');
  const snapshots = await Promise.all(sources.map((addr) => fetchInventory(addr)));
  const suggestion = suggestPolicies(snapshots.flatMap((s) => s.apis), { namespace, selectorLabel: values['selector-label'] ?? 'app' });
  io.stdout.write(suggestionYaml(suggestion));
  return 0;
}

function jsonReport(snapshots: readonly InventorySnapshot[]): Record<string, unknown> {
  return {
    apis: snapshots.flatMap((s) => s.apis.map((a) => ({
      service: a.service, method: a.method, route: a.route, callers: a.callers, count: a.count,
      lastSeen: a.lastSeen, responseFields: a.responseFields, sensitive: a.sensitive, declared: a.declared,
      sensitiveCallers: a.sensitiveCallers, requestContentTypes: a.requestContentTypes, responseContentTypes: a.responseContentTypes, malformedBodies: a.malformedBodies,
    }))),
    zombies: snapshots.flatMap((s) => s.zombies.map((z) => ({ service: zombieService(s, z), method: z.method, route: z.route }))),
    overflow: Object.fromEntries(snapshots.filter((s) => s.overflow > 0).map((s) => [s.service, s.overflow])),
  };
}

/** A zombie's service: its own in the operator's merged inventory, else the snapshot's. */
function zombieService(s: InventorySnapshot, z: InventorySnapshot['zombies'][number]): string {
  const own = (z as { service?: unknown }).service;
  return typeof own === 'string' ? own : s.service;
}

/** Attacker-controlled text (paths, identities) is shown with control characters escaped. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function table(snapshots: readonly InventorySnapshot[]): string {
  const header = ['SERVICE', 'METHOD', 'ROUTE', 'CALLERS', 'COUNT', 'LAST SEEN', 'SENSITIVE', 'DECLARED'];
  const rows = snapshots.flatMap((s) => s.apis.map((a) => [
    a.service, a.method, a.route, a.callers.join(',') + (a.callersOverflow > 0 ? ` (+${a.callersOverflow})` : ''),
    String(a.count), a.lastSeen, a.sensitive.join(',') || '-', a.declared ? 'yes' : 'no (shadow)',
  ].map(printable)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  let out = line(header) + rows.map(line).join('');
  if (rows.length === 0) out += '(no API calls observed yet)\n';
  for (const s of snapshots) {
    for (const a of s.apis) {
      if (a.sensitive.length === 0) continue;
      const who = a.sensitiveCallers.length > 0 ? a.sensitiveCallers.join(', ') : 'no caller recorded yet';
      out += `sensitive: ${printable(a.service)} ${printable(a.method)} ${printable(a.route)} returns ${printable(a.sensitive.join(','))} to ${printable(who)}\n`;
    }
    for (const a of s.apis) {
      if (a.malformedBodies > 0) out += `malformed: ${printable(a.service)} ${printable(a.method)} ${printable(a.route)} answered ${a.malformedBodies} malformed JSON bodies (of those sampled)\n`;
    }
    for (const z of s.zombies) out += `zombie: ${printable(zombieService(s, z))} ${printable(z.method)} ${printable(z.route)} is declared but was never called\n`;
    if (s.overflow > 0) out += `overflow: ${printable(s.service)} hit its cap of ${s.maxRoutes} routes; ${s.overflow} requests to further routes were only counted\n`;
  }
  return out;
}
