import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../core/config/load.ts';
import { deepFreeze } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { sidecarConfigSchema } from '../../sidecar/config/sidecar-config-schema.ts';
import { validateKubernetesObject } from '../../test/helpers/kube-validate.ts';
import { loadChartValues } from './chart-values.ts';
import { injectOptionsFromValues } from './inject-options.ts';
import { injectPod } from './inject-pod.ts';

const options = injectOptionsFromValues(loadChartValues(), 'ztmesh-system');

function pod(spec: Record<string, unknown>, annotations?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', labels: { app: 'web' }, ...(annotations ? { annotations } : {}) }, spec };
}

const app = { name: 'app', image: 'web:1', ports: [{ containerPort: 8080, name: 'http' }] };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof MeshError ? err.code : `not a MeshError: ${String(err)}`;
  }
}

function sidecarConfigOf(template: any): unknown {
  return parse(template.metadata.annotations['ztmesh.io/sidecar-config']);
}

describe('injectPod', () => {
  it('renders a sidecar config that the sidecar itself accepts (its zod schema)', () => {
    const { template } = injectPod(pod({ containers: [{ ...app, livenessProbe: { httpGet: { path: '/live', port: 'http' } } }] }), 'shop', options);
    const config = validateConfig(sidecarConfigSchema, sidecarConfigOf(template), 'injected sidecar config');
    expect(config.inbound.app).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.appProbes['app-liveness']).toEqual({ port: 8080, path: '/live' });
    expect(config.identity.ca?.tokenFile).toBe('/var/run/secrets/ztmesh/token');
    expect(config.workload).toEqual({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
  });

  it('never modifies its input', () => {
    const input = deepFreeze(pod({ containers: [{ ...app, readinessProbe: { httpGet: { path: '/r', port: 8080 } } }] }));
    expect(() => injectPod(input, 'shop', options)).not.toThrow();
  });

  it('gives the proxy the pod fsGroup, or sets fsGroup to the proxy UID, so it can read the projected token', () => {
    const own = injectPod(pod({ securityContext: { fsGroup: 3000 }, containers: [app] }), 'shop', options).template as any;
    expect(own.spec.securityContext.fsGroup).toBe(3000);
    expect(own.spec.initContainers[1].securityContext.runAsGroup).toBe(3000);
    const none = injectPod(pod({ containers: [app] }), 'shop', options).template as any;
    expect(none.spec.securityContext.fsGroup).toBe(1337);
  });

  it('puts the interception and the sidecar before the pod own init containers', () => {
    const { template } = injectPod(pod({ initContainers: [{ name: 'migrate', image: 'm:1' }], containers: [app] }), 'shop', options) as any;
    expect(template.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(['ztmesh-init', 'ztmesh-proxy', 'migrate']);
    expect(template.spec.initContainers[1].restartPolicy).toBe('Always');
  });

  it('lists the other TCP container ports as opaque TCP ports, but not UDP or excluded ones', () => {
    const { template } = injectPod(
      pod({ containers: [{ ...app, ports: [{ containerPort: 8080 }, { containerPort: 5432 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 9000 }] }] }, { 'ztmesh.io/exclude-inbound-ports': '9000' }),
      'shop',
      options,
    );
    expect((sidecarConfigOf(template) as any).inbound.tcpPorts).toEqual([5432]);
  });

  it('leaves tcpSocket, exec, grpc and HTTPS probes alone (with a warning for HTTPS)', () => {
    const probes = { livenessProbe: { tcpSocket: { port: 8080 } }, startupProbe: { exec: { command: ['true'] } }, readinessProbe: { httpGet: { port: 8080, scheme: 'HTTPS' } } };
    const result = injectPod(pod({ containers: [{ ...app, ...probes }] }), 'shop', options);
    expect((result.template.spec.containers[0] as any).livenessProbe).toEqual(probes.livenessProbe);
    expect((result.template.spec.containers[0] as any).readinessProbe).toEqual(probes.readinessProbe);
    expect(result.warnings.join('\n')).toContain('scheme HTTPS');
  });

  it.each([
    ['a proxy port used by the app', pod({ containers: [{ ...app, ports: [{ containerPort: 15001 }] }] }), 'ZTMESH_INJECT_CONFLICTING_ANNOTATIONS'],
    ['a reserved container name', pod({ containers: [{ name: 'ztmesh-proxy', image: 'x' }] }), 'ZTMESH_INJECT_BAD_POD'],
    ['a reserved volume name', pod({ containers: [app], volumes: [{ name: 'ztmesh-config', emptyDir: {} }] }), 'ZTMESH_INJECT_BAD_POD'],
    ['no containers', pod({ containers: [] }), 'ZTMESH_INJECT_BAD_POD'],
    ['a non-string annotation', { metadata: { annotations: { 'ztmesh.io/app-port': 8080 } }, spec: { containers: [app] } }, 'ZTMESH_INJECT_BAD_POD'],
    ['a bad resource quantity', pod({ containers: [app] }, { 'ztmesh.io/proxy-memory': 'lots' }), 'ZTMESH_INJECT_BAD_ANNOTATION'],
    ['a malformed status annotation', pod({ containers: [app] }, { 'ztmesh.io/status': 'not json' }), 'ZTMESH_INJECT_PARTIALLY_INJECTED'],
  ])('refuses %s', (_what, input, code) => {
    expect(codeOf(() => injectPod(input, 'shop', options))).toBe(code);
  });

  it('for any pod: the result validates, and injecting it again changes nothing', async () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
    const probe = fc.option(fc.record({ httpGet: fc.record({ path: fc.stringMatching(/^\/[a-z0-9/]{0,12}$/), port: fc.integer({ min: 1, max: 14999 }) }) }), { nil: undefined });
    const container = fc.record({
      name,
      image: fc.constant('img:1'),
      ports: fc.uniqueArray(fc.integer({ min: 1, max: 14999 }), { maxLength: 3 }).map((ps) => ps.map((p) => ({ containerPort: p }))),
      readinessProbe: probe,
      livenessProbe: probe,
    }).map((c) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>);
    const pods = fc.uniqueArray(container, { minLength: 1, maxLength: 3, selector: (c) => c['name'] }).map((containers) => pod({ containers }));
    const samples = fc.sample(pods, { numRuns: 60, seed: 42 });
    for (const input of samples) {
      const once = injectPod(input, 'ns1', options);
      expect(once.outcome).toBe('injected');
      await validateKubernetesObject(once.template);
      validateConfig(sidecarConfigSchema, sidecarConfigOf(once.template), 'sidecar config');
      const twice = injectPod(once.template, 'ns1', options);
      expect(twice.outcome).toBe('already-injected');
      expect(twice.template).toEqual(once.template);
    }
  });
});

describe('probes the injector cannot move', () => {
  it('warns that tcpSocket and grpc probes on intercepted ports reach the sidecar, and not when the port is excluded', () => {
    const spec = { containers: [{ ...app, livenessProbe: { tcpSocket: { port: 'http' } }, readinessProbe: { grpc: { port: 9090 } } }] };
    const warned = injectPod(pod(spec), 'shop', options).warnings.join('\n');
    expect(warned).toContain('liveness tcpSocket probe on port http now reaches the sidecar');
    expect(warned).toContain('readiness grpc probe on port 9090 is intercepted');
    const excluded = injectPod(pod(spec, { 'ztmesh.io/exclude-inbound-ports': '8080,9090', 'ztmesh.io/app-port': '8081' }), 'shop', options).warnings;
    expect(excluded.filter((w) => w.includes('probe'))).toEqual([]);
  });
});
