import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadChartValues } from '../operator/inject/chart-values.ts';
import { injectOptionsFromValues } from '../operator/inject/inject-options.ts';
import { FakeKubeApiServer } from '../operator/testing/fake-kube-api.ts';
import { createMeshIdentities } from '../operator/testing/mesh-identities.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/testing/operator-process.ts';

/** `ztmesh operator --webhook-listen ...` as a process: serves AdmissionReviews and, as leader, writes the caBundle. */
const NAME = 'ztmesh-sidecar-injector';
const DNS = 'ztmesh-operator.ztmesh-system.svc';
let api: FakeKubeApiServer;
let dir: string;
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  const ids = await createMeshIdentities('example.org');
  dir = mkdtempSync(join(tmpdir(), 'ztmesh-operator-webhook-'));
  const op = await ids.operator();
  writeFileSync(join(dir, 'op.pem'), op.certChainPem);
  writeFileSync(join(dir, 'op-key.pem'), op.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'bundle.pem'), op.bundlePem);
  writeFileSync(join(dir, 'injector.yaml'), stringify(injectOptionsFromValues(loadChartValues(), 'ztmesh-system', 'operator')));
  api = await FakeKubeApiServer.start();
  writeFileSync(join(dir, 'kubeconfig'), api.kubeConfig().exportConfig());
  api.apply('namespaces', { metadata: { name: 'ztmesh-system' } });
  api.apply('mutatingwebhookconfigurations', {
    metadata: { name: NAME },
    webhooks: [{ name: 'sidecar-injector.ztmesh.io', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { name: 'ztmesh-operator', namespace: 'ztmesh-system', path: '/inject', port: 443 } } }],
  });
  operator = await startOperatorProcess([
    '--kubeconfig', join(dir, 'kubeconfig'), '--trust-domain', 'example.org', '--cert-file', join(dir, 'op.pem'), '--key-file', join(dir, 'op-key.pem'), '--bundle-file', join(dir, 'bundle.pem'),
    '--admin', '127.0.0.1:0', '--distribution-listen', '127.0.0.1:0', '--id', 'operator-0',
    '--webhook-listen', '127.0.0.1:0', '--injector-config', join(dir, 'injector.yaml'), '--webhook-configuration', NAME, '--webhook-dns-names', DNS,
  ]);
}, 60_000);

afterAll(async () => {
  await operator?.stop();
  await api?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function caBundle(): string | undefined {
  const obj = api.store.get(api.resource('mutatingwebhookconfigurations'), undefined, NAME) as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] };
  return obj.webhooks[0]!.clientConfig.caBundle;
}

describe('ztmesh operator with the injection webhook', () => {
  it('writes the caBundle as leader, and injects over TLS that verifies against it for the Service name', async () => {
    const start = Date.now();
    while (caBundle() === undefined) {
      if (Date.now() - start > 15_000) throw new Error('no caBundle written');
      await new Promise((r) => setTimeout(r, 20));
    }
    const webhookPort = operator!.logs.find((l) => l['msg'] === 'operator started')!['webhookPort'] as number;
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', operation: 'CREATE', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'a' }] } } },
    });
    const answer = await new Promise<{ allowed: boolean; patch: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: webhookPort, path: '/inject', method: 'POST', servername: DNS, ca: Buffer.from(caBundle()!, 'base64'), headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const r = (JSON.parse(text) as { response: { allowed: boolean; patch: string } }).response;
          resolve({ allowed: r.allowed, patch: Buffer.from(r.patch, 'base64').toString() });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.allowed).toBe(true);
    // The injected config takes its policies from the operator, with POD_NAME from the downward API.
    expect(answer.patch).toContain('ztmesh-operator.ztmesh-system.svc:15012');
    expect(answer.patch).toContain('POD_NAME');
  }, 30_000);
});
