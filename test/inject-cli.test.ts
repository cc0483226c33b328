import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/io.ts';
import { parseManifestText } from '../operator/inject/inject-manifests.ts';
import { validateKubernetesObject } from './helpers/kube-validate.ts';

const FIXTURES = new URL('./fixtures/k8s/', import.meta.url);
const GOLDEN = new URL('./fixtures/k8s/golden/', import.meta.url);
const update = process.env['UPDATE_GOLDEN'] === '1';

async function cli(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const input = new PassThrough();
  input.end(stdin);
  const io: CliIo = { stdout, stderr, stdin: input, env: {}, cwd: FIXTURES.pathname };
  const code = await main(argv, io);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function golden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (update || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    if (!update) throw new Error(`golden file ${name} was missing and has been written; run again`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));

describe('ztmesh inject', () => {
  it.each(fixtures)('%s: injected output equals the golden file and validates against the Kubernetes schemas', async (fixture) => {
    const result = await cli(['inject', '-f', fixture, '-n', 'team-a']);
    expect(result.stderr.includes('internal error')).toBe(false);
    expect(result.code).toBe(0);
    golden(fixture.replace(/\.yaml$/, '.injected.yaml'), result.stdout);
    for (const doc of parseManifestText(result.stdout, 'output')) {
      const items = (doc as { kind: string; items?: unknown[] }).kind === 'List' ? ((doc as { items: unknown[] }).items) : [doc];
      for (const item of items) await validateKubernetesObject(item);
    }
  });

  it.each(fixtures)('%s: injecting the output again changes nothing (idempotent)', async (fixture) => {
    const once = await cli(['inject', '-f', fixture, '-n', 'team-a']);
    const twice = await cli(['inject', '-f', '-', '-n', 'team-a'], once.stdout);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toBe(once.stdout);
  });

  it('warns on stderr about pods it leaves alone', async () => {
    const result = await cli(['inject', '-f', 'skipped.yaml']);
    expect(result.stderr).toContain('Pod shop/legacy: skipped');
    expect(result.stderr).toContain('Pod monitoring/node-exporter: skipped');
    const again = await cli(['inject', '-f', '-'], (await cli(['inject', '-f', 'deployment.yaml'])).stdout);
    expect(again.stderr).toContain('ZTMESH_INJECT_ALREADY_INJECTED');
  });

  it('takes the image, trust domain and CA address from flags', async () => {
    const result = await cli(['inject', '-f', 'deployment.yaml', '--image', 'registry.local/ztmesh:9.9.9', '--trust-domain', 'prod.example', '--ca-address', 'ca.mesh:9443']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('image: registry.local/ztmesh:9.9.9');
    expect(result.stdout).toContain('ztmesh.io/injected-version: 9.9.9');
    expect(result.stdout).toContain('trustDomain: prod.example');
    expect(result.stdout).toContain('address: ca.mesh:9443');
    expect(result.stdout).toContain('identity: spiffe://prod.example/ns/ztmesh-system/sa/ztmesh-ca');
  });

  it('takes defaults from a chart values file', async () => {
    const dir = new URL('./fixtures/k8s/values/', import.meta.url);
    const result = await cli(['inject', '-f', 'deployment.yaml', '--values', new URL('custom.values.yaml', dir).pathname]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('image: mirror.example/ztmesh:0.2.0');
    expect(result.stdout).toContain('memory: 64Mi');
    expect(result.stdout).toContain('- --exclude-outbound-ports\n            - "3306"');
  });

  const bad: [string, string][] = [
    ['bad/not-yaml.yaml', 'ZTMESH_INJECT_BAD_MANIFEST'],
    ['bad/no-kind.yaml', 'ZTMESH_INJECT_BAD_MANIFEST'],
    ['bad/bad-port-list.yaml', 'ZTMESH_INJECT_BAD_ANNOTATION'],
    ['bad/conflicting.yaml', 'ZTMESH_INJECT_CONFLICTING_ANNOTATIONS'],
    ['bad/partially-injected.yaml', 'ZTMESH_INJECT_PARTIALLY_INJECTED'],
    ['bad/bad-inject-flag.yaml', 'ZTMESH_INJECT_BAD_ANNOTATION'],
    ['bad/no-containers.yaml', 'ZTMESH_INJECT_BAD_POD'],
    ['bad/missing-file.yaml', 'ZTMESH_INJECT_BAD_MANIFEST'],
    ['bad/bad-api-spec.yaml', 'ZTMESH_INJECT_BAD_ANNOTATION'],
    ['bad/refuse-undeclared-without-api-spec.yaml', 'ZTMESH_INJECT_CONFLICTING_ANNOTATIONS'],
  ];
  it.each(bad)('%s: exits 1 with %s and prints nothing on stdout', async (file, code) => {
    const result = await cli(['inject', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(code);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stdout).toBe('');
  });

  it('names the annotation and the bad item for an invalid port list', async () => {
    const result = await cli(['inject', '-f', 'bad/bad-port-list.yaml']);
    expect(result.stderr).toContain('ztmesh.io/exclude-inbound-ports');
    expect(result.stderr).toContain('"http"');
  });

  it('names ztmesh.io/api-spec and the bad value when it is not a ConfigMap reference', async () => {
    const result = await cli(['inject', '-f', 'bad/bad-api-spec.yaml']);
    expect(result.stderr).toContain('ztmesh.io/api-spec: "Inventory API/v2.yaml"');
  });

  it('mounts the api-spec ConfigMap into the sidecar and declares it in the sidecar config, leaving the ConfigMap alone', async () => {
    const result = await cli(['inject', '-f', 'api-spec.yaml']);
    expect(result.code).toBe(0);
    const [configMap, deployment] = parseManifestText(result.stdout, 'output') as any[];
    expect(configMap).toEqual(parseManifestText(readFileSync(new URL('api-spec.yaml', FIXTURES), 'utf8'), 'fixture')[0]);
    const template = deployment.spec.template;
    expect(template.spec.volumes).toContainEqual({ name: 'ztmesh-api-spec', configMap: { name: 'inventory-api', items: [{ key: 'v2.yaml', path: 'openapi.yaml' }] } });
    const proxy = template.spec.initContainers.find((c: { name: string }) => c.name === 'ztmesh-proxy');
    expect(proxy.volumeMounts).toContainEqual({ name: 'ztmesh-api-spec', mountPath: '/etc/ztmesh-api', readOnly: true });
    expect(template.metadata.annotations['ztmesh.io/sidecar-config']).toContain(
      'requestValidation:\n  openapi: /etc/ztmesh-api/openapi.yaml\n  refuseUndeclared: true\n  maxBodyBytes: 262144\n',
    );
  });

  it('rejects an invalid values file with a config error', async () => {
    const result = await cli(['inject', '-f', 'deployment.yaml', '--values', new URL('./fixtures/k8s/values/invalid.values.yaml', import.meta.url).pathname]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ZTMESH_CONFIG_INVALID');
    expect(result.stderr).toContain('proxy.uid');
  });
});
