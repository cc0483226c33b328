import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from '../../sidecar/config/load-sidecar-config.ts';
import { sidecarConfigSchema } from '../../sidecar/config/sidecar-config-schema.ts';
import { compileRequestValidation } from '../../sidecar/validation/request-validator.ts';
import { validateKubernetesObject } from '../../test/helpers/kube-validate.ts';
import { parseApiSpec, readPodSettings } from './annotations.ts';
import { loadChartValues } from './chart-values.ts';
import { injectOptionsFromValues } from './inject-options.ts';
import { injectPod } from './inject-pod.ts';

const options = injectOptionsFromValues(loadChartValues(), 'ztmesh-system');
const app = { name: 'app', image: 'orders:1', ports: [{ containerPort: 8080 }] };

function pod(annotations: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orders-0', labels: { app: 'orders' }, annotations }, spec: { containers: [app] } };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof MeshError ? err.code : `not a MeshError: ${String(err)}`;
  }
}

function proxyOf(template: any): any {
  return template.spec.initContainers.find((c: { name: string }) => c.name === 'ztmesh-proxy');
}

function configOf(template: any): any {
  return parse(template.metadata.annotations['ztmesh.io/sidecar-config']);
}

describe('ztmesh.io/api-spec and the request-validation annotations', () => {
  it.each([
    ['orders-api', { configMap: 'orders-api', key: 'openapi.yaml' }],
    ['orders-api/spec.json', { configMap: 'orders-api', key: 'spec.json' }],
    [' api.v2/orders_API-3.yaml ', { configMap: 'api.v2', key: 'orders_API-3.yaml' }],
  ])('reads %j as a ConfigMap and key', (text, expected) => {
    expect(parseApiSpec(text)).toEqual(expected);
  });

  it.each([
    ['an empty value', { 'ztmesh.io/api-spec': '' }, 'ztmesh.io/api-spec'],
    ['an uppercase ConfigMap name', { 'ztmesh.io/api-spec': 'Orders' }, 'ztmesh.io/api-spec'],
    ['an empty key', { 'ztmesh.io/api-spec': 'orders/' }, 'ztmesh.io/api-spec'],
    ['a key with a slash', { 'ztmesh.io/api-spec': 'orders/a/b.yaml' }, 'ztmesh.io/api-spec'],
    ['the key ".."', { 'ztmesh.io/api-spec': 'orders/..' }, 'ztmesh.io/api-spec'],
    ['a ConfigMap name too long', { 'ztmesh.io/api-spec': 'a'.repeat(254) }, 'ztmesh.io/api-spec'],
    ['refuse-undeclared not a boolean', { 'ztmesh.io/api-spec': 'orders', 'ztmesh.io/refuse-undeclared': 'yes' }, 'ztmesh.io/refuse-undeclared'],
    ['a max body of 0', { 'ztmesh.io/api-spec': 'orders', 'ztmesh.io/validation-max-body-bytes': '0' }, 'ztmesh.io/validation-max-body-bytes'],
    ['a max body with a unit', { 'ztmesh.io/api-spec': 'orders', 'ztmesh.io/validation-max-body-bytes': '1Mi' }, 'ztmesh.io/validation-max-body-bytes'],
    ['a max body over 64 MiB', { 'ztmesh.io/api-spec': 'orders', 'ztmesh.io/validation-max-body-bytes': String(64 * 1024 * 1024 + 1) }, 'ztmesh.io/validation-max-body-bytes'],
  ])('refuses %s with ZTMESH_INJECT_BAD_ANNOTATION naming the annotation', (_what, annotations, named) => {
    let error: unknown;
    try {
      injectPod(pod(annotations), 'shop', options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('ZTMESH_INJECT_BAD_ANNOTATION');
    expect((error as MeshError).message.startsWith(`${named}: `)).toBe(true);
  });

  it.each([
    ['refuse-undeclared', { 'ztmesh.io/refuse-undeclared': 'true' }],
    ['refuse-undeclared "false"', { 'ztmesh.io/refuse-undeclared': 'false' }],
    ['validation-max-body-bytes', { 'ztmesh.io/validation-max-body-bytes': '4096' }],
  ])('refuses %s without ztmesh.io/api-spec as conflicting', (_what, annotations) => {
    expect(codeOf(() => injectPod(pod(annotations), 'shop', options))).toBe('ZTMESH_INJECT_CONFLICTING_ANNOTATIONS');
  });

  it('reads no validation when no annotation asks for it', () => {
    expect(readPodSettings({}, options).validation).toBeUndefined();
    expect(readPodSettings({ 'ztmesh.io/api-spec': 'orders', 'ztmesh.io/refuse-undeclared': 'TRUE' }, options).validation).toEqual({
      apiSpec: { configMap: 'orders', key: 'openapi.yaml' },
      refuseUndeclared: true,
      maxBodyBytes: undefined,
    });
  });
});

describe('injecting a pod with a declared API', () => {
  const annotations = { 'ztmesh.io/api-spec': 'orders-api/v1.yaml', 'ztmesh.io/refuse-undeclared': 'true', 'ztmesh.io/validation-max-body-bytes': '65536' };

  it('mounts the ConfigMap key read-only at a fixed path in the proxy only, and points requestValidation at it', async () => {
    const { template, outcome } = injectPod(pod(annotations), 'shop', options) as any;
    expect(outcome).toBe('injected');
    expect(template.spec.volumes).toContainEqual({ name: 'ztmesh-api-spec', configMap: { name: 'orders-api', items: [{ key: 'v1.yaml', path: 'openapi.yaml' }] } });
    expect(proxyOf(template).volumeMounts).toContainEqual({ name: 'ztmesh-api-spec', mountPath: '/etc/ztmesh-api', readOnly: true });
    const others = [...template.spec.containers, template.spec.initContainers[0]];
    for (const c of others) expect(JSON.stringify(c.volumeMounts ?? [])).not.toContain('ztmesh-api-spec');
    expect(JSON.parse(template.metadata.annotations['ztmesh.io/status']).volumes).toContain('ztmesh-api-spec');
    const config = validateConfig(sidecarConfigSchema, configOf(template), 'injected sidecar config');
    expect(config.requestValidation).toEqual({ openapi: '/etc/ztmesh-api/openapi.yaml', routes: [], refuseUndeclared: true, maxBodyBytes: 65536 });
    await validateKubernetesObject(template);
  });

  it('writes refuseUndeclared false and the sidecar default body limit when only api-spec is set', () => {
    const { template } = injectPod(pod({ 'ztmesh.io/api-spec': 'orders-api' }), 'shop', options) as any;
    expect(configOf(template).requestValidation).toEqual({ openapi: '/etc/ztmesh-api/openapi.yaml', refuseUndeclared: false });
    expect(template.spec.volumes.at(-1).configMap.items).toEqual([{ key: 'openapi.yaml', path: 'openapi.yaml' }]);
  });

  it('adds nothing for a pod without the annotation (the existing output is unchanged)', () => {
    const { template } = injectPod(pod(), 'shop', options) as any;
    expect(JSON.stringify(template)).not.toContain('ztmesh-api');
    expect(configOf(template).requestValidation).toBeUndefined();
  });

  it('is idempotent: injecting the injected pod again changes nothing', () => {
    const once = injectPod(pod(annotations), 'shop', options);
    const twice = injectPod(once.template, 'shop', options);
    expect(twice.outcome).toBe('already-injected');
    expect(twice.template).toEqual(once.template);
  });

  it('reports a pod whose api-spec volume was removed after injection as partially injected', () => {
    const { template } = injectPod(pod(annotations), 'shop', options) as any;
    const edited = { ...template, spec: { ...template.spec, volumes: template.spec.volumes.filter((v: { name: string }) => v.name !== 'ztmesh-api-spec') } };
    expect(codeOf(() => injectPod(edited, 'shop', options))).toBe('ZTMESH_INJECT_PARTIALLY_INJECTED');
  });

  describe('the injected config, as the kubelet would lay it out, is accepted by the sidecar', () => {
    const root = mkdtempSync(join(tmpdir(), 'ztmesh-api-spec-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const openapi = [
      'openapi: 3.0.3',
      'info: { title: orders, version: "1" }',
      'paths:',
      '  /orders/{id}:',
      '    get:',
      '      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]',
      '      responses: { "200": { description: ok } }',
      '  /orders:',
      '    post:',
      '      requestBody:',
      '        required: true',
      '        content: { application/json: { schema: { type: object, required: [item], properties: { item: { type: string } } } } }',
      '      responses: { "201": { description: created } }',
      '',
    ].join('\n');

    it('loads with loadSidecarConfig and compiles against the projected OpenAPI document', () => {
      const { template } = injectPod(pod(annotations), 'shop', options) as any;
      // Lay out the files the pod's volumes give the proxy: the config from the annotation, the
      // ConfigMap's key at the volume item's path under the mount path.
      const configFile = join(root, 'etc/ztmesh/sidecar.yaml');
      mkdirSync(join(root, 'etc/ztmesh'), { recursive: true });
      writeFileSync(configFile, template.metadata.annotations['ztmesh.io/sidecar-config']);
      const volume = template.spec.volumes.find((v: { name: string }) => v.name === 'ztmesh-api-spec');
      const mount = proxyOf(template).volumeMounts.find((m: { name: string }) => m.name === 'ztmesh-api-spec');
      const projected = `${mount.mountPath}/${volume.configMap.items[0].path}`;
      mkdirSync(join(root, mount.mountPath), { recursive: true });
      writeFileSync(join(root, projected), openapi);

      const config = loadSidecarConfig(configFile);
      expect(config.requestValidation?.openapi).toBe(projected);
      const validator = compileRequestValidation({ ...config.requestValidation!, openapi: join(root, projected) });
      expect(validator.refuseUndeclared).toBe(true);
      expect(validator.maxBodyBytes).toBe(65536);
      expect(validator.declared.map((r) => `${r.method} ${r.route}`).sort()).toEqual(['GET /orders/{id}', 'POST /orders']);
    });
  });
});
