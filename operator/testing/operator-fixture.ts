import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeKubeApiServer } from './fake-kube-api.ts';
import type { MeshIdentities } from './mesh-identities.ts';

/** What a cross-process operator test starts from. */
export interface OperatorFixture {
  readonly api: FakeKubeApiServer;
  /** The arguments every operator process of the test shares: kubeconfig, trust domain, SVID files, admin, id. */
  readonly args: string[];
}

/**
 * The operator's side of a cross-process test: its SVID written into `dir` (`op.pem`, `op-key.pem`,
 * `bundle.pem`; a test may overwrite them to rotate) and a kubeconfig for a fresh fake API server.
 * Namespaces and other objects are the caller's.
 */
export async function startOperatorFixture(dir: string, ids: MeshIdentities, trustDomain: string): Promise<OperatorFixture> {
  const op = await ids.operator();
  writeFileSync(join(dir, 'op.pem'), op.certChainPem);
  writeFileSync(join(dir, 'op-key.pem'), op.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'bundle.pem'), op.bundlePem);
  const api = await FakeKubeApiServer.start({ bookmarkMs: 500 });
  writeFileSync(join(dir, 'kubeconfig'), api.kubeConfig().exportConfig());
  const args = [
    '--kubeconfig', join(dir, 'kubeconfig'), '--trust-domain', trustDomain,
    '--cert-file', join(dir, 'op.pem'), '--key-file', join(dir, 'op-key.pem'), '--bundle-file', join(dir, 'bundle.pem'),
    '--admin', '127.0.0.1:0', '--id', 'operator-0',
  ];
  return { api, args };
}
