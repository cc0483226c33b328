import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from './load-sidecar-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-sidecar-config-'));
let n = 0;
function write(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

const VALID = `
trustDomain: example.org
workload: { namespace: shop, name: orders, labels: { app: orders } }
identity: { certFile: svid.pem, keyFile: svid-key.pem, bundleFile: bundle.pem }
inbound: { listen: 127.0.0.1:15006, app: 127.0.0.1:8080, tcpPorts: [5432] }
outbound:
  listen: 127.0.0.1:15001
  services:
    orders: { address: 127.0.0.1:16006, identity: spiffe://example.org/ns/shop/sa/orders }
    db: { address: "[::1]:16007", identity: spiffe://example.org/ns/shop/sa/db, protocol: tcp, listen: 127.0.0.1:15432, port: 5432 }
policyFile: policy.yaml
meshConfigFile: mesh.yaml
admin: 127.0.0.1:15000
appProbes:
  app-readiness: { port: 8080, path: /healthz }
drainGracePeriod: 5s
limits: { maxHeaderBytes: 8192, idleTimeout: 5s }
logLevel: debug
`;

function issuesOf(text: string): string[] {
  try {
    loadSidecarConfig(write(text));
  } catch (err) {
    expect(errorCode(err)).toBe('ZTMESH_CONFIG_INVALID');
    return ((err as MeshError).details!['issues'] as { path: string }[]).map((i) => i.path);
  }
  throw new Error('expected the config to be refused');
}

describe('loadSidecarConfig', () => {
  it('parses the contract example into typed values with absolute paths', () => {
    const c = loadSidecarConfig(write(VALID));
    expect(c.trustDomain).toBe('example.org');
    expect(c.identity).toEqual({ kind: 'files', certFile: join(dir, 'svid.pem'), keyFile: join(dir, 'svid-key.pem'), bundleFile: join(dir, 'bundle.pem') });
    expect(c.inbound).toEqual({ listen: { host: '127.0.0.1', port: 15006 }, app: { host: '127.0.0.1', port: 8080 }, tcpPorts: [5432], bodyLimits: [] });
    expect(c.outbound.services).toEqual([
      { name: 'orders', endpoints: [{ host: '127.0.0.1', port: 16006 }], balancer: 'p2c-ewma', identity: 'spiffe://example.org/ns/shop/sa/orders', protocol: 'http', listen: undefined, port: undefined, routes: [] },
      { name: 'db', endpoints: [{ host: '::1', port: 16007 }], balancer: 'p2c-ewma', identity: 'spiffe://example.org/ns/shop/sa/db', protocol: 'tcp', listen: { host: '127.0.0.1', port: 15432 }, port: 5432, routes: [] },
    ]);
    expect(c.policyFile).toBe(join(dir, 'policy.yaml'));
    expect(c.drainGraceMs).toBe(5000);
    expect(c.limits).toMatchObject({ maxHeaderBytes: 8192, idleTimeoutMs: 5000, maxHeaderCount: 100 });
    expect(c.appProbes.get('app-readiness')).toEqual({ host: '127.0.0.1', port: 8080, path: '/healthz' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('applies defaults: admin 127.0.0.1:15000, drain 10s, info, no probes', () => {
    const c = loadSidecarConfig(write(`
trustDomain: example.org
workload: { namespace: shop }
identity: { ca: { address: "ca.example:8443", bundleFile: b.pem, tokenFile: tok, identity: spiffe://example.org/ns/ztmesh-system/sa/ztmesh-ca, ttl: 1h } }
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:8080 }
outbound: { listen: 127.0.0.1:0 }
policyFile: p.yaml
`));
    expect(c.admin).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(c.drainGraceMs).toBe(10_000);
    expect(c.logLevel).toBe('info');
    expect(c.identity).toMatchObject({ kind: 'ca', address: { host: 'ca.example', port: 8443 }, ttl: '1h', tokenFile: join(dir, 'tok') });
    expect(c.workload.labels).toEqual({});
  });

  it('names every bad key at once', () => {
    const paths = issuesOf(`
trustDomain: Example.org
workload: { namespace: shop, team: x }
identity: { certFile: a.pem }
inbound: { listen: "127.0.0.1", app: 127.0.0.1:0 }
outbound:
  listen: "::1:15001"
  services:
    orders: { address: 127.0.0.1:16006, identity: "spiffe://example.org/ns/shop/sa/" }
    db: { address: 127.0.0.1:1, identity: spiffe://example.org/db, protocol: tcp }
policyFile: p.yaml
drainGracePeriod: soon
limits: { maxHeaderBytes: 1, nope: 2 }
bogus: 1
`);
    expect(paths).toEqual(expect.arrayContaining([
      'trustDomain', 'workload.team', 'identity.keyFile', 'identity.bundleFile', 'inbound.listen', 'inbound.app',
      'outbound.listen', 'outbound.services.orders.identity', 'outbound.services.db.listen', 'outbound.services.db.port',
      'drainGracePeriod', 'limits.maxHeaderBytes', 'limits.nope', 'bogus',
    ]));
  });

  it('refuses files and ca together, foreign trust domains, and a remote admin port unless allowed', () => {
    const base = VALID.replace('identity: { certFile', 'identity: { ca: { address: 127.0.0.1:1, bundleFile: b, tokenFile: t }, certFile')
      .replace('spiffe://example.org/ns/shop/sa/orders', 'spiffe://other.org/ns/shop/sa/orders')
      .replace('admin: 127.0.0.1:15000', 'admin: 0.0.0.0:15000');
    expect(issuesOf(base)).toEqual(expect.arrayContaining(['identity.certFile', 'outbound.services.orders.identity', 'admin']));
    const allowed = loadSidecarConfig(write(VALID.replace('admin: 127.0.0.1:15000', 'admin: 0.0.0.0:15000\nadminAllowRemote: true')));
    expect(allowed.admin).toEqual({ host: '0.0.0.0', port: 15000 });
  });

  it('reads requestAuthentication (jwksFile resolved) and inbound.allowedSourceCidrs', () => {
    const c = loadSidecarConfig(write(VALID.replace('tcpPorts: [5432] }', 'tcpPorts: [5432], allowedSourceCidrs: [10.0.0.0/8, "fd00::/8"] }') + `
requestAuthentication:
  jwtRules:
    - { issuer: https://idp.example.com, audiences: [orders], jwksFile: jwks.json, algorithms: [ES256], forwardOriginalToken: false }
`));
    expect(c.inbound.allowedSourceCidrs).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(c.requestAuthentication?.jwtRules[0]).toMatchObject({ jwksFile: join(dir, 'jwks.json'), forwardOriginalToken: false, clockSkew: '60s', fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }] });
    expect(loadSidecarConfig(write(VALID)).requestAuthentication).toBeUndefined();
  });

  it('names bad JWT rules and CIDRs', () => {
    const paths = issuesOf(VALID.replace('tcpPorts: [5432] }', 'tcpPorts: [5432], allowedSourceCidrs: [10.0.0.0/33] }') + `
requestAuthentication:
  jwtRules:
    - { issuer: https://idp.example.com, audiences: [], jwksUri: "http://idp.example.com/jwks", algorithms: [HS256] }
`);
    expect(paths).toEqual(expect.arrayContaining(['inbound.allowedSourceCidrs[0]', 'requestAuthentication.jwtRules[0].audiences', 'requestAuthentication.jwtRules[0].algorithms[0]', 'requestAuthentication.jwtRules[0].jwksUri']));
  });

  it('reports unreadable files and bad YAML with their own codes', () => {
    expect(() => loadSidecarConfig(join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'ZTMESH_CONFIG_UNREADABLE' }));
    expect(() => loadSidecarConfig(write('a: [1'))).toThrow(expect.objectContaining({ code: 'ZTMESH_CONFIG_BAD_YAML' }));
  });
});
