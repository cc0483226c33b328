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

/** A running pod in namespace `shop` that the injector already handled (`ztmesh.io/status` set). */
export function injectedPod(name: string, serviceAccount: string, app: string) {
  return {
    metadata: { name, namespace: 'shop', labels: { app }, annotations: { 'ztmesh.io/status': '{"version":"test"}' } },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'app' }] },
    status: { phase: 'Running' },
  };
}

/** `orders-allow` in namespace `shop`: pods labelled app=orders admit only the service account `sa`. */
export function allowOrdersFrom(trustDomain: string, sa: string) {
  return {
    apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders-allow', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'orders' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [`${trustDomain}/ns/shop/sa/${sa}`] } }] }] },
  };
}
