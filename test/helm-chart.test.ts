import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartGeneratedFiles } from '../operator/inject/chart-generated-files.ts';
import { loadChartValues } from '../operator/inject/chart-values.ts';
import { injectOptionsFromValues, parseInjectOptions } from '../operator/inject/inject-options.ts';
import { formatManifestText, parseManifestText } from '../operator/inject/inject-manifests.ts';
import { parseOperatorArgs } from '../cli/commands/operator.ts';
import { helmBinaries } from './helpers/helm-binaries.ts';
import { validateKubernetesObject } from './helpers/kube-validate.ts';

const CHART = new URL('../charts/ztmesh/', import.meta.url).pathname;
const GOLDEN = new URL('./fixtures/k8s/golden/helm-default.yaml', import.meta.url);
const NS = 'ztmesh-system';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

let helm: string;
let dir: string;

function template(args: string[] = []): Obj[] {
  const out = execFileSync(helm, ['template', 'ztmesh', CHART, '--namespace', NS, '--include-crds', ...args], { encoding: 'utf8' });
  return parseManifestText(out, 'helm template') as Obj[];
}

function valuesFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const VALUE_SETS: Record<string, string> = {
  default: '',
  'secrets-created': `
ca:
  secrets:
    create: true
    sealKey: "${Buffer.alloc(32, 7).toString('base64')}"
    files:
      bundle.pem: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
      root-key.sealed: "sealed"
`,
  'ignore-minimal': `
operator:
  replicas: 1
  webhook: { failurePolicy: Ignore, timeoutSeconds: 5, port: 8443 }
ca: { replicas: 1 }
networkPolicy: { enabled: false, apiServerCidrs: [], apiServerPort: 443 }
podDisruptionBudget: { enabled: false }
`,
  'custom-mesh': `
image: { repository: registry.internal/ztmesh, tag: "0.1.0-rc1", pullPolicy: Always }
imagePullSecrets: [{ name: regcred }]
trustDomain: prod.example.org
proxy: { uid: 2000, ipv6: true, ports: { inbound: 16006, outbound: 16001, admin: 16020 } }
interception:
  excludeOutboundCidrs: [169.254.169.254/32]
  includeOutboundCidrs: [10.0.0.0/8]
networkPolicy: { apiServerCidrs: [172.20.0.1/32], apiServerPort: 6443 }
`,
  dashboard: `
dashboard: { enabled: true, port: 9090, tokenSecret: mesh-dashboard }
`,
};

function podSpecs(objects: Obj[]): { name: string; spec: any }[] {
  return objects.filter((o) => o.kind === 'Deployment').map((o) => ({ name: o.metadata.name, spec: o['spec'].template.spec }));
}

describe('the Helm chart', () => {
  const rendered: Record<string, Obj[]> = {};

  beforeAll(() => {
    helm = helmBinaries().helm;
    dir = mkdtempSync(join(tmpdir(), 'ztmesh-helm-'));
    for (const [name, text] of Object.entries(VALUE_SETS)) {
      rendered[name] = text === '' ? template() : template(['-f', valuesFile(`${name}.yaml`, text)]);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes helm lint --strict, with the default and the most different value sets', () => {
    for (const [name, text] of Object.entries(VALUE_SETS).filter(([n]) => n === 'default' || n === 'custom-mesh')) {
      const args = text === '' ? [] : ['-f', join(dir, `${name}.yaml`)];
      const out = execFileSync(helm, ['lint', '--strict', CHART, '--namespace', NS, ...args], { encoding: 'utf8' });
      expect(out).toContain('0 chart(s) failed');
    }
  });

  it('renders the default values as the golden file', () => {
    const text = formatManifestText(rendered['default']!);
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it.each(Object.keys(VALUE_SETS))('%s: every rendered object validates against the Kubernetes OpenAPI schemas', async (name) => {
    const objects = rendered[name]!;
    expect(objects.length).toBeGreaterThan(10);
    for (const obj of objects) await validateKubernetesObject(obj);
  });

  it('renders every component the issue lists', () => {
    const kinds = new Set(rendered['default']!.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const expected of [
      'CustomResourceDefinition/authorizationpolicies.ztmesh.io', 'CustomResourceDefinition/meshconfigs.ztmesh.io',
      'Deployment/ztmesh-ca', 'Service/ztmesh-ca', 'Deployment/ztmesh-operator', 'Service/ztmesh-operator',
      'MutatingWebhookConfiguration/ztmesh-sidecar-injector', 'ConfigMap/ztmesh-injector',
      'PodDisruptionBudget/ztmesh-ca', 'PodDisruptionBudget/ztmesh-operator', 'NetworkPolicy/ztmesh-ca', 'NetworkPolicy/ztmesh-operator',
      'ServiceAccount/ztmesh-ca', 'ServiceAccount/ztmesh-operator', 'ClusterRole/ztmesh-ca-tokenreview', 'Role/ztmesh-operator',
    ]) expect(kinds, expected).toContain(expected);
    const secrets = new Set(rendered['secrets-created']!.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
    expect(secrets).toEqual(new Set(['ztmesh-ca-keys', 'ztmesh-seal-key']));
  });

  it.each(Object.keys(VALUE_SETS))('%s: RBAC has no wildcards, Secrets only in the release namespace, TokenReview create for the CA', (name) => {
    const objects = rendered[name]!;
    for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
      for (const rule of role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field, `${role.metadata.name}`).not.toContain('*');
        if (role.kind === 'ClusterRole') expect(rule.resources, role.metadata.name).not.toContain('secrets');
      }
      if (role.kind === 'Role') expect(role.metadata.namespace).toBe(NS);
    }
    const caRole = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'ztmesh-ca-tokenreview')!;
    expect(caRole['rules']).toEqual([{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }]);
    const operatorRole = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'ztmesh-operator')!;
    expect(JSON.stringify(operatorRole['rules'])).toContain('leases');
  });

  it.each(Object.keys(VALUE_SETS))('%s: every pod meets the restricted Pod Security standard', (name) => {
    for (const { name: pod, spec } of podSpecs(rendered[name]!)) {
      expect(spec.securityContext.runAsNonRoot, pod).toBe(true);
      expect(spec.securityContext.seccompProfile.type, pod).toBe('RuntimeDefault');
      expect(spec.hostNetwork ?? false, pod).toBe(false);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext;
        expect(sc.allowPrivilegeEscalation, `${pod}/${c.name}`).toBe(false);
        expect(sc.readOnlyRootFilesystem, `${pod}/${c.name}`).toBe(true);
        expect(sc.capabilities.drop, `${pod}/${c.name}`).toEqual(['ALL']);
        expect(sc.capabilities.add, `${pod}/${c.name}`).toBeUndefined();
        expect(sc.privileged ?? false, `${pod}/${c.name}`).toBe(false);
        expect(c.resources.limits.memory, `${pod}/${c.name}`).toBeDefined();
      }
      for (const v of spec.volumes ?? []) expect(v.hostPath, `${pod} volume ${v.name}`).toBeUndefined();
    }
  });

  it('dashboard.enabled: the operator serves it on the port, token from the Secret, behind a ClusterIP Service (off by default)', () => {
    const operatorArgs = (set: string): string[] => rendered[set]!.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ztmesh-operator')!['spec'].template.spec.containers[0].args;
    expect(rendered['default']!.some((o) => o.metadata.name === 'ztmesh-dashboard')).toBe(false);
    expect(operatorArgs('default')).not.toContain('--dashboard-listen');
    const options = parseOperatorArgs(operatorArgs('dashboard').slice(1), {}, '/')!;
    expect(options.dashboard).toEqual({ listen: { host: '0.0.0.0', port: 9090 }, tokenFile: '/etc/ztmesh/dashboard/token', peers: `ztmesh-operator-peers.${NS}.svc` });
    const peers = rendered['dashboard']!.find((o) => o.kind === 'Service' && o.metadata.name === 'ztmesh-operator-peers')!;
    expect(peers['spec']).toMatchObject({ clusterIP: 'None', ports: [{ port: 9090, targetPort: 'http-dashboard' }] });
    const service = rendered['dashboard']!.find((o) => o.kind === 'Service' && o.metadata.name === 'ztmesh-dashboard')!;
    expect(service['spec']).toMatchObject({ type: 'ClusterIP', ports: [{ port: 9090, targetPort: 'http-dashboard' }] });
    const spec = rendered['dashboard']!.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ztmesh-operator')!['spec'].template.spec;
    expect(spec.volumes.find((v: { name: string }) => v.name === 'dashboard-token').secret).toEqual({ secretName: 'mesh-dashboard', items: [{ key: 'token', path: 'token' }] });
    const netpol = rendered['dashboard']!.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'ztmesh-operator')!;
    expect(JSON.stringify(netpol['spec'].ingress)).toContain('"port":9090');
  });

  it('sets the webhook failurePolicy explicitly, from the values', () => {
    const hook = (set: string) => rendered[set]!.find((o) => o.kind === 'MutatingWebhookConfiguration')!['webhooks'][0];
    expect(hook('default')).toMatchObject({
      failurePolicy: 'Fail', sideEffects: 'None', timeoutSeconds: 10, admissionReviewVersions: ['v1'],
      namespaceSelector: { matchLabels: { 'ztmesh.io/inject': 'enabled' } },
      clientConfig: { service: { name: 'ztmesh-operator', namespace: NS, path: '/inject', port: 443 } },
    });
    expect(hook('default').rules).toEqual([{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    expect(hook('ignore-minimal')).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 5 });
  });

  it.each(Object.keys(VALUE_SETS))("%s: the injector ConfigMap equals the options the CLI derives from the same values", (name) => {
    const cm = rendered[name]!.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'ztmesh-injector')!;
    const fromChart = parseInjectOptions(parse(cm['data']['injector.yaml']), 'ConfigMap ztmesh-injector');
    const file = VALUE_SETS[name] === '' ? undefined : join(dir, `${name}.yaml`);
    expect(fromChart).toEqual(injectOptionsFromValues(loadChartValues(file), NS, 'operator'));
  });

  it('helm refuses values that break values.schema.json', () => {
    const bad = valuesFile('bad.yaml', 'proxy:\n  uid: root\nunknownKey: 1\n');
    let stderr = '';
    try {
      execFileSync(helm, ['template', 'ztmesh', CHART, '-f', bad], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(stderr).toContain('uid');
    expect(stderr).toContain('unknownKey');
  });

  it('refuses ca.secrets.create without a seal key', () => {
    const bad = valuesFile('no-seal.yaml', 'ca:\n  secrets:\n    create: true\n');
    expect(() => execFileSync(helm, ['template', 'ztmesh', CHART, '-f', bad], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/sealKey is required/);
  });

  it('the CRDs are structural schemas (no const, anyOf with types, or properties beside additionalProperties)', () => {
    const crds = rendered['default']!.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(2);
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      expect(n['const'], path).toBeUndefined();
      expect(n['$schema'], path).toBeUndefined();
      expect(n['propertyNames'], path).toBeUndefined();
      if (n['properties'] !== undefined) expect(n['additionalProperties'], path).toBeUndefined();
      if (n['type'] !== undefined) expect(typeof n['type'], path).toBe('string');
      for (const [k, v] of Object.entries(n)) {
        if (k === 'properties') for (const [name, child] of Object.entries(v as Record<string, unknown>)) walk(child, `${path}.properties.${name}`);
        else if (k === 'items' || k === 'additionalProperties') walk(v, `${path}.${k}`);
      }
    };
    for (const crd of crds) walk(crd['spec'].versions[0].schema.openAPIV3Schema, crd.metadata.name);
  });

  it('values.schema.json and the CRDs equal what the zod schemas generate (node scripts/gen-chart-files.ts)', () => {
    for (const [path, text] of Object.entries(chartGeneratedFiles())) {
      expect(readFileSync(join(CHART, path), 'utf8'), path).toBe(text);
    }
  });
  it.each(Object.keys(VALUE_SETS))('%s: the operator Deployment\'s args are accepted by `ztmesh operator` (parseOperatorArgs), with every file it names mounted', (name) => {
    const deployment = rendered[name]!.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ztmesh-operator')!;
    const spec = deployment['spec'].template.spec;
    const container = spec.containers.find((c: { name: string }) => c.name === 'operator');
    expect(container.args[0]).toBe('operator');
    const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, `from-${e.name}`]));
    const options = parseOperatorArgs(container.args.slice(1), env, '/')!;
    expect(options.identity.kind).toBe('ca');
    expect(options.webhook).toBeDefined();
    expect(options.webhook!.configurationName).toBe('ztmesh-sidecar-injector');
    const webhookConfig = rendered[name]!.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
    const service = webhookConfig['webhooks'][0].clientConfig.service;
    expect(options.webhook!.dnsNames).toContain(`${service.name}.${service.namespace}.svc`);
    expect(options.webhook!.listen).toBe(`0.0.0.0:${container.ports.find((p: { name: string }) => p.name === 'https-webhook').containerPort}`);
    expect(options.distributionListen).toBe(`0.0.0.0:${container.ports.find((p: { name: string }) => p.name === 'grpc-policy').containerPort}`);
    const files = options.identity.kind === 'ca' ? [options.identity.tokenFile, options.identity.bundleFile, options.webhook!.injectorConfigFile] : [];
    if (options.dashboard?.tokenFile !== undefined) files.push(options.dashboard.tokenFile);
    for (const file of files) {
      const mount = container.volumeMounts.find((m: { mountPath: string }) => file.startsWith(`${m.mountPath}/`));
      expect(mount, file).toBeDefined();
      const volume = spec.volumes.find((v: { name: string }) => v.name === mount.name);
      const leaf = file.slice(mount.mountPath.length + 1);
      const provided = [
        ...(volume.configMap ? Object.keys(rendered[name]!.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name)!['data']) : []),
        ...(volume.secret ? volume.secret.items.map((i: { path: string }) => i.path) : []),
        ...(volume.projected ? volume.projected.sources.map((src: { serviceAccountToken?: { path: string } }) => src.serviceAccountToken?.path) : []),
      ];
      expect(provided, file).toContain(leaf);
    }
    expect(() => parseOperatorArgs([...container.args.slice(1), '--no-such-flag'], env, '/')).toThrow(expect.objectContaining({ code: 'ZTMESH_CLI_BAD_ARGS' }));
    // The CA grants the operator exactly the webhook's DNS names (and nobody else any).
    const caArgs: string[] = rendered[name]!.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ztmesh-ca')!['spec'].template.spec.containers[0].args;
    const allow = caArgs.flatMap((a, i) => (a === '--allow-dns' ? [caArgs[i + 1]] : []));
    expect(allow).toEqual([`spiffe://${options.trustDomain}/ns/${NS}/sa/ztmesh-operator=${options.webhook!.dnsNames.join(',')}`]);
  });
});
