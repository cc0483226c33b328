import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeshIdentities } from '../../operator/testing/mesh-identities.ts';
import { yaml } from './sidecar-process.ts';

export interface ControlledSidecarOptions {
  readonly dir: string;
  readonly ids: MeshIdentities;
  readonly trustDomain: string;
  /** Service account in namespace `shop`: the SVID's identity, the files' names and the `app` label. */
  readonly sa: string;
  /** The pod the sidecar says it runs in (the operator checks it against the fake API server). */
  readonly podName: string;
  readonly distributionPort: number;
  /** `workload.name` (default: the pod name). */
  readonly workloadName?: string;
  /** `control.reportInterval` (default: the sidecar's). */
  readonly reportInterval?: string;
  /** Further top-level config keys (listeners, log level...). */
  readonly extra?: Record<string, unknown>;
}

/**
 * Writes an SVID for `shop/<sa>` and a sidecar config that takes its policy from the operator's
 * distribution server (`control:`) into `dir`; returns the config file's path.
 */
export async function writeControlledSidecar(o: ControlledSidecarOptions): Promise<string> {
  const { dir, sa } = o;
  const svid = await o.ids.ca.mint({ spiffeId: `spiffe://${o.trustDomain}/ns/shop/sa/${sa}` });
  writeFileSync(join(dir, `${sa}.pem`), svid.certChainPem);
  writeFileSync(join(dir, `${sa}-key.pem`), svid.keyPem, { mode: 0o600 });
  const file = join(dir, `${sa}.yaml`);
  writeFileSync(file, yaml({
    trustDomain: o.trustDomain,
    workload: { namespace: 'shop', name: o.workloadName ?? o.podName, labels: { app: sa } },
    identity: { certFile: `${sa}.pem`, keyFile: `${sa}-key.pem`, bundleFile: 'bundle.pem' },
    control: { address: `127.0.0.1:${o.distributionPort}`, podName: o.podName, ...(o.reportInterval === undefined ? {} : { reportInterval: o.reportInterval }) },
    admin: '127.0.0.1:0',
    ...o.extra,
  }));
  return file;
}
