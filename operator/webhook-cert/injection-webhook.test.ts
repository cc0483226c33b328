import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { loadChartValues } from '../inject/chart-values.ts';
import { injectOptionsFromValues } from '../inject/inject-options.ts';
import { FakeKubeApiServer } from '../testing/fake-kube-api.ts';
import { loadInjectorConfig, startInjectionWebhook, type RunningInjectionWebhook } from './injection-webhook.ts';
import { SelfManagedWebhookCa } from './self-managed-webhook-ca.ts';

const NAME = 'ztmesh-sidecar-injector';
const DNS = 'ztmesh-operator.ztmesh-system.svc';
const options = injectOptionsFromValues(loadChartValues(), 'ztmesh-system');

function mutatingWebhookConfiguration() {
  const hook = (name: string) => ({
    name, admissionReviewVersions: ['v1'], sideEffects: 'None',
    clientConfig: { service: { name: 'ztmesh-operator', namespace: 'ztmesh-system', path: '/inject', port: 443 } },
  });
  return { metadata: { name: NAME }, webhooks: [hook('sidecar-injector.ztmesh.io'), hook('second.ztmesh.io')] };
}

/** The kube-apiserver's side: trust only the caBundle from the stored object, check the Service DNS name. */
function admit(port: number, caBundleB64: string, image: string): Promise<{ allowed: boolean; patch: string }> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: 'a1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', image }] } },
    },
  });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', servername: DNS, ca: Buffer.from(caBundleB64, 'base64'), headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const response = (JSON.parse(text) as { response: { allowed: boolean; patch?: string } }).response;
        resolve({ allowed: response.allowed, patch: Buffer.from(response.patch ?? '', 'base64').toString() });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function caBundleOf(api: FakeKubeApiServer): (string | undefined)[] {
  const obj = api.store.get(api.resource('mutatingwebhookconfigurations'), undefined, NAME) as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] };
  return obj.webhooks.map((w) => w.clientConfig.caBundle);
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the operator\'s injection webhook', () => {
  let dir: string;
  let file: string;
  let api: FakeKubeApiServer;
  let webhook: RunningInjectionWebhook;
  let leader = false;
  let ca: SelfManagedWebhookCa;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ztmesh-injection-webhook-'));
    file = join(dir, 'injector.yaml');
    writeFileSync(file, stringify(options));
    api = await FakeKubeApiServer.start();
    api.apply('mutatingwebhookconfigurations', mutatingWebhookConfiguration());
    ca = await SelfManagedWebhookCa.create({ dnsNames: [DNS] });
    webhook = await startInjectionWebhook({
      listen: '127.0.0.1:0', injectorConfigFile: file, configurationName: NAME, serving: ca, kubeConfig: api.kubeConfig(),
      isLeader: () => leader, logger: silentLogger(), configPollMs: 20, caBundleCheckMs: 50,
    });
  });
  afterAll(async () => {
    await webhook?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the caBundle only as leader, into every webhook of the configuration', async () => {
    await webhook.syncCaBundle();
    expect(caBundleOf(api)).toEqual([undefined, undefined]);
    expect(api.requests.filter((r) => r.plural === 'mutatingwebhookconfigurations')).toHaveLength(0);
    leader = true;
    await webhook.syncCaBundle();
    const want = Buffer.from(ca.caBundlePem).toString('base64');
    expect(caBundleOf(api)).toEqual([want, want]);
  });

  it('puts the caBundle back when someone overwrites it (periodic check), and writes nothing when it matches', async () => {
    const want = Buffer.from(ca.caBundlePem).toString('base64');
    api.apply('mutatingwebhookconfigurations', mutatingWebhookConfiguration());
    await until(() => caBundleOf(api)[0] === want && caBundleOf(api)[1] === want, 'the caBundle rewritten');
    const patches = () => api.requests.filter((r) => r.plural === 'mutatingwebhookconfigurations' && r.method === 'PATCH').length;
    const before = patches();
    await webhook.syncCaBundle();
    expect(patches()).toBe(before);
  });

  it('answers AdmissionReviews over TLS that verifies against the written caBundle for the Service name', async () => {
    const answer = await admit(webhook.port, caBundleOf(api)[0]!, 'orders:1');
    expect(answer.allowed).toBe(true);
    expect(answer.patch).toContain(options.image);
  });

  it('reloads a changed injector config, and keeps the previous one when the change is invalid', async () => {
    writeFileSync(file, stringify({ ...options, image: 'registry.example/ztmesh:next' }));
    await until(() => loadInjectorConfig(file).image === 'registry.example/ztmesh:next', 'file written');
    const caBundle = caBundleOf(api)[0]!;
    const start = Date.now();
    let patch = '';
    while (!patch.includes('registry.example/ztmesh:next')) {
      if (Date.now() - start > 5000) throw new Error('the webhook did not reload its config');
      patch = (await admit(webhook.port, caBundle, 'orders:1')).patch;
    }
    writeFileSync(file, 'image: [unterminated');
    expect(() => loadInjectorConfig(file)).toThrow(expect.objectContaining({ code: 'ZTMESH_INJECT_BAD_OPTIONS' }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await admit(webhook.port, caBundle, 'orders:1')).patch).toContain('registry.example/ztmesh:next');
  });

  it('refuses to start on an invalid injector config, naming the code', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, stringify({ ...options, proxy: { ...options.proxy, uid: 0 } }));
    await expect(startInjectionWebhook({ listen: '127.0.0.1:0', injectorConfigFile: bad, configurationName: undefined, serving: ca, kubeConfig: api.kubeConfig(), isLeader: () => true, logger: silentLogger() }))
      .rejects.toMatchObject({ code: 'ZTMESH_INJECT_BAD_OPTIONS' });
  });
});
