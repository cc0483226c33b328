import { readFile } from 'node:fs/promises';
import { parseYamlText, validateConfig } from '../../core/config/load.ts';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import { compilePolicies, type PolicyAuthorizer } from '../../core/policy/compile.ts';
import type { DenyList } from '../../core/policy/deny-list.ts';
import { formatPolicyIssue, parsePolicyDocuments } from '../../core/policy/load-policies.ts';
import { meshConfigSchema, type MeshConfig } from '../../core/policy/mesh-config.ts';
import type { Workload } from '../../core/policy/selection.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Registry } from '../../core/telemetry/metrics.ts';
import { watchAndReload } from '../config/file-watch.ts';

export interface PolicySourceOptions {
  readonly policyFile: string;
  readonly meshConfigFile: string | undefined;
  readonly workload: Workload;
  /** Used as the mesh config's trustDomain when its file leaves it out. */
  readonly trustDomain: string;
  readonly metrics: Registry;
  readonly logger: Logger;
  /** Called with each new authorizer put in force (e.g. the observer's `setPolicyVersion`). */
  readonly onChange?: (authorizer: PolicyAuthorizer) => void;
  /** Called after a reload changed the deny list (e.g. to close connections of newly listed peers). */
  readonly onDenyListChange?: (denyList: DenyList) => void;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export interface PolicySource {
  /** The authorizer in force; undefined until a valid set loaded (the data plane then denies everything). */
  authorizer(): PolicyAuthorizer | undefined;
  /** The mesh config of the set in force (path normalization mode, ...), undefined until one loaded. */
  meshConfig(): MeshConfig | undefined;
  /** The handshake-time deny list check: a reason to refuse the peer, or undefined. */
  peerAllowed(peer: { id: SpiffeId; serial: string }): string | undefined;
  /** Re-reads both files now; true when a new valid set is in force. */
  reload(): Promise<boolean>;
  close(): void;
}

async function readMeshConfig(file: string | undefined, trustDomain: string): Promise<MeshConfig> {
  if (file === undefined) return validateConfig(meshConfigSchema, { trustDomain }, 'default mesh config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_CONFIG_UNREADABLE', `cannot read mesh config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const doc = parseYamlText(text, file) ?? {};
  const withDomain = typeof doc === 'object' && !Array.isArray(doc) && !('trustDomain' in doc) ? { ...doc, trustDomain } : doc;
  return validateConfig(meshConfigSchema, withDomain, file);
}

async function readPolicies(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_POLICY_UNREADABLE', `cannot read policy file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const { policies, issues } = parsePolicyDocuments(text, file);
  if (issues.length > 0) {
    throw new MeshError('ZTMESH_POLICY_INVALID', `invalid policies:\n${issues.map((i) => `  ${formatPolicyIssue(i)}`).join('\n')}`, { details: { issues } });
  }
  return policies.map((p) => p.policy);
}

/**
 * The workload's authorization policies and mesh config, loaded, compiled and hot-reloaded. A
 * change is taken whole or not at all: an invalid file at start leaves no authorizer (fail closed:
 * everything denied, not ready); afterwards the last good set stays (fail static), the error is
 * logged and counted in `ztmesh_policy_reload_errors_total`. `onChange` reports each set put in
 * force (the request observer exports it as `ztmesh_policy_version{version}`).
 */
export async function startPolicySource(o: PolicySourceOptions): Promise<PolicySource> {
  const log = o.logger.child({ component: 'policy' });
  const errors = o.metrics.counter({ name: 'ztmesh_policy_reload_errors_total', help: 'Policy or mesh config loads that failed validation; the last good set stayed in force.', labelNames: ['code'], maxSeries: 50 });
  const loads = o.metrics.counter({ name: 'ztmesh_policy_reloads_total', help: 'Policy sets compiled and put in force.' });
  const denySize = o.metrics.gauge({ name: 'ztmesh_deny_list_entries', help: 'SPIFFE IDs and certificate serials on the mesh deny list in force.' });
  let current: PolicyAuthorizer | undefined;
  let currentMesh: MeshConfig | undefined;
  let denyKey = '';

  async function load(): Promise<boolean> {
    try {
      const mesh = await readMeshConfig(o.meshConfigFile, o.trustDomain);
      const policies = await readPolicies(o.policyFile);
      const next = compilePolicies(policies, o.workload, mesh);
      const previous = current;
      if (previous?.version === next.version) return false;
      current = next;
      currentMesh = mesh;
      loads.inc();
      o.onChange?.(next);
      denySize.set(next.denyList.size);
      log.info({ version: next.version, previous: previous?.version, selected: next.selected, denyListEntries: next.denyList.size }, previous === undefined ? 'policies loaded' : 'policies reloaded');
      const key = JSON.stringify(mesh.denyList);
      if (key !== denyKey) {
        const first = denyKey === '';
        denyKey = key;
        if (!first || next.denyList.size > 0) o.onDenyListChange?.(next.denyList);
      }
      return true;
    } catch (err) {
      const code = errorCode(err);
      errors.labels(code).inc();
      log.error(
        { code, err: { message: err instanceof Error ? err.message : String(err) }, keeping: current?.version },
        current === undefined ? 'no valid policy set: denying every request (fail closed)' : 'policy reload failed; keeping the last good set',
      );
      return false;
    }
  }

  const files = o.meshConfigFile === undefined ? [o.policyFile] : [o.policyFile, o.meshConfigFile];
  const { reload, close } = await watchAndReload(files, load, (err) => log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'file watch failed; relying on polling'), {
    debounceMs: o.debounceMs,
    pollMs: o.pollMs,
  });

  return {
    authorizer: () => current,
    meshConfig: () => currentMesh,
    peerAllowed(peer) {
      const list = current?.denyList;
      if (list === undefined || list.size === 0) return undefined;
      if (list.hasSpiffeId(peer.id)) return 'SPIFFE ID is on the mesh deny list';
      if (list.hasSerial(peer.serial)) return 'certificate serial is on the mesh deny list';
      return undefined;
    },
    reload,
    close,
  };
}
