import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../core/config/load.ts';
import { buildRequestAttributes } from '../core/policy/build-request.ts';
import { compilePolicies } from '../core/policy/compile.ts';
import { parsePolicyDocuments } from '../core/policy/load-policies.ts';
import { defaultMeshConfig } from '../core/policy/mesh-config.ts';
import { sidecarConfigSchema } from '../sidecar/config/sidecar-config-schema.ts';
import { demoPolicyYaml } from './demo-policies.ts';
import { demoSidecarYaml } from './sidecar-config.ts';
import { DEMO_NAMESPACE, DEMO_SERVICE_NAMES, demoTopology, listPorts, workloadIdentity } from './topology.ts';

describe('demo configuration', () => {
  it('each generated sidecar config passes the sidecar schema', () => {
    const topology = demoTopology();
    for (const name of DEMO_SERVICE_NAMES) {
      const yaml = demoSidecarYaml(topology, topology.services[name], { bundleFile: '/s/bundle.pem', tokenFile: `/s/${name}/token`, policyFile: '/s/policy.yaml' });
      const config = validateConfig(sidecarConfigSchema, parse(yaml), `${name}/sidecar.yaml`);
      expect(config.identity.ca?.address).toEqual({ host: '127.0.0.1', port: 8443 });
      expect(config.inbound.app).toEqual({ host: '127.0.0.1', port: topology.services[name].ports.app });
    }
  });

  it('documented default ports, shifted together by an offset, never colliding', () => {
    const ports = listPorts(demoTopology()).map((p) => p.port);
    expect(ports).toEqual([8443, 8080, 15006, 15001, 15000, 8081, 16006, 16001, 16000, 8082, 17006, 17001, 17000]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(listPorts(demoTopology(3000)).map((p) => p.port)).toEqual(ports.map((p) => p + 3000));
  });

  it('the policies allow exactly frontend GET /orders* on orders and orders POST /charge on payments', () => {
    const loaded = parsePolicyDocuments(demoPolicyYaml(), 'policy.yaml');
    expect(loaded.issues).toEqual([]);
    const policies = loaded.policies.map((p) => p.policy);
    const decide = (from: string, to: string, method: string, path: string) =>
      compilePolicies(policies, { namespace: DEMO_NAMESPACE, labels: { app: to } }, defaultMeshConfig()).evaluate(
        buildRequestAttributes({ principal: workloadIdentity(from), port: 8080, method, path }),
      );
    expect(decide('frontend', 'orders', 'GET', '/orders')).toMatchObject({ decision: 'ALLOW', policy: 'shop/orders-allow-frontend' });
    expect(decide('frontend', 'orders', 'GET', '/orders/17')).toMatchObject({ decision: 'ALLOW' });
    expect(decide('frontend', 'orders', 'DELETE', '/orders')).toMatchObject({ decision: 'DENY' });
    expect(decide('orders', 'payments', 'POST', '/charge')).toMatchObject({ decision: 'ALLOW', policy: 'shop/payments-allow-orders' });
    expect(decide('frontend', 'payments', 'POST', '/charge')).toMatchObject({ decision: 'DENY' });
    expect(decide('frontend', 'payments', 'GET', '/charge')).toMatchObject({ decision: 'DENY' });
    expect(decide('payments', 'orders', 'GET', '/orders')).toMatchObject({ decision: 'DENY' });
    expect(decide('orders', 'frontend', 'GET', '/')).toMatchObject({ decision: 'DENY' });
  });
});
