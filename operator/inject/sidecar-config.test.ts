import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../core/config/load.ts';
import { sidecarConfigSchema } from '../../sidecar/config/sidecar-config-schema.ts';
import { validateKubernetesObject } from '../../test/helpers/kube-validate.ts';
import { loadChartValues } from './chart-values.ts';
import { injectOptionsFromValues } from './inject-options.ts';
import { injectPod } from './inject-pod.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1', ports: [{ containerPort: 8080 }] }] } };

function injected(policies: 'operator' | 'configmap'): any {
  return injectPod(structuredClone(pod), 'shop', injectOptionsFromValues(loadChartValues(), 'ztmesh-system', policies)).template;
}

describe('the injected sidecar config: policies from the operator or from the ConfigMap', () => {
  it('with the chart\'s operator options: control with the operator Service and identity, the schema accepts it, POD_NAME from the downward API', async () => {
    const template = injected('operator');
    const text = template.metadata.annotations['ztmesh.io/sidecar-config'];
    const config = validateConfig(sidecarConfigSchema, parse(text), 'injected sidecar config');
    expect(config.control).toEqual({ address: { host: 'ztmesh-operator.ztmesh-system.svc', port: 15012 }, identity: 'spiffe://cluster.local/ns/ztmesh-system/sa/ztmesh-operator', reportInterval: 10_000 });
    expect(config.policyFile).toBeUndefined();
    const proxy = template.spec.initContainers.find((c: { name: string }) => c.name === 'ztmesh-proxy');
    expect(proxy.env).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    expect(JSON.stringify(template.spec.volumes)).not.toContain('ztmesh-policies');
    await validateKubernetesObject(template);
  });

  it('offline (the CLI default): the namespace\'s policy file, no control, no POD_NAME', () => {
    const template = injected('configmap');
    const config = validateConfig(sidecarConfigSchema, parse(template.metadata.annotations['ztmesh.io/sidecar-config']), 'injected sidecar config');
    expect(config.control).toBeUndefined();
    expect(config.policyFile).toBe('/etc/ztmesh/policies.yaml');
    const proxy = template.spec.initContainers.find((c: { name: string }) => c.name === 'ztmesh-proxy');
    expect(proxy.env).toBeUndefined();
    expect(JSON.stringify(template.spec.volumes)).toContain('ztmesh-policies');
  });
});
