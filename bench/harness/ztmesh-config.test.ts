import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { authorizationPolicySchema } from '../../core/policy/schema.ts';
import type { BenchPki } from './pki.ts';
import { meshConfigSchema } from '../../core/policy/mesh-config.ts';
import { allowClientPolicy, benchMeshConfig, sidecarConfig } from './ztmesh-config.ts';

const pki: BenchPki = {
  bundleFile: '/t/root.pem',
  client: { spiffeId: 'spiffe://bench.local/ns/bench/sa/client', commonName: 'client', certFile: '/t/client.pem', keyFile: '/t/client-key.pem' },
  server: { spiffeId: 'spiffe://bench.local/ns/bench/sa/server', commonName: 'server', certFile: '/t/server.pem', keyFile: '/t/server-key.pem' },
};
const ports = { outboundPort: 1001, inboundPort: 1006, appPort: 1080, clientAdminPort: 1000, serverAdminPort: 2000, clientUnusedInboundPort: 1106, serverUnusedOutboundPort: 2001 };

describe('sidecarConfig', () => {
  it('routes authority app from the client side to the server side, expecting the server identity', () => {
    const client = parse(sidecarConfig('client', ports, pki, '/t/policy.yaml', '/t/mesh.yaml'));
    expect(client.outbound).toEqual({ listen: '127.0.0.1:1001', services: { app: { address: '127.0.0.1:1006', identity: pki.server.spiffeId } } });
    expect(client.identity.certFile).toBe('/t/client.pem');
    const server = parse(sidecarConfig('server', ports, pki, '/t/policy.yaml', '/t/mesh.yaml'));
    expect(server.inbound).toEqual({ listen: '127.0.0.1:1006', app: '127.0.0.1:1080' });
    expect(server.workload.labels).toEqual({ app: 'server' });
  });
});

describe('allowClientPolicy', () => {
  it('is a valid AuthorizationPolicy whose last rule, and only it, names the client', () => {
    const doc = parse(allowClientPolicy(pki, 1000));
    const result = authorizationPolicySchema.safeParse(doc);
    expect(result.success).toBe(true);
    expect(doc.spec.rules).toHaveLength(1000);
    const principals = doc.spec.rules.map((r: { from: { source: { principals: string[] } }[] }) => r.from[0]!.source.principals[0]);
    expect(principals.indexOf(pki.client.spiffeId)).toBe(999);
  });
});

describe('benchMeshConfig', () => {
  it('is a valid MeshConfig with rate limiting off', () => {
    const mesh = meshConfigSchema.parse(parse(benchMeshConfig()));
    expect(mesh.rateLimit.enabled).toBe(false);
    expect(mesh.trustDomain).toBe('bench.local');
  });
});
