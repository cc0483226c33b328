import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from './load-sidecar-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-endpoints-config-'));
let n = 0;
function load(services: string): ReturnType<typeof loadSidecarConfig> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, `
trustDomain: example.org
workload: { namespace: shop }
identity: { certFile: svid.pem, keyFile: svid-key.pem, bundleFile: bundle.pem }
inbound: { listen: 127.0.0.1:15006, app: 127.0.0.1:8080 }
outbound:
  listen: 127.0.0.1:15001
  services:
${services}
policyFile: policy.yaml
`);
  return loadSidecarConfig(file);
}

function issuePaths(services: string): string[] {
  try {
    load(services);
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe('ZTMESH_CONFIG_INVALID');
    return ((err as MeshError).details as { issues: { path: string }[] }).issues.map((i) => i.path);
  }
  throw new Error('config was accepted');
}

describe('outbound service endpoints config', () => {
  it('takes a list of endpoints with a balancer, or the single address form', () => {
    const c = load(`
    orders: { endpoints: [127.0.0.1:16006, 127.0.0.1:16007, "[::1]:16008"], balancer: round-robin, identity: spiffe://example.org/ns/shop/sa/orders }
    pay: { address: 127.0.0.1:16010, identity: spiffe://example.org/ns/shop/sa/pay }
    none: { endpoints: [], identity: spiffe://example.org/ns/shop/sa/none }`);
    const byName = new Map(c.outbound.services.map((s) => [s.name, s]));
    expect(byName.get('orders')).toMatchObject({
      endpoints: [{ host: '127.0.0.1', port: 16006 }, { host: '127.0.0.1', port: 16007 }, { host: '::1', port: 16008 }],
      balancer: 'round-robin',
    });
    expect(byName.get('pay')).toMatchObject({ endpoints: [{ host: '127.0.0.1', port: 16010 }], balancer: 'p2c-ewma' });
    expect(byName.get('none')!.endpoints).toEqual([]);
  });

  it('names the key when both or neither of address and endpoints are set, or an endpoint is bad', () => {
    const paths = issuePaths(`
    both: { address: 127.0.0.1:1, endpoints: [127.0.0.1:2], identity: spiffe://example.org/ns/shop/sa/a }
    neither: { identity: spiffe://example.org/ns/shop/sa/b }
    bad: { endpoints: [127.0.0.1:2, "nope"], identity: spiffe://example.org/ns/shop/sa/c }
    lb: { endpoints: [127.0.0.1:2], balancer: random, identity: spiffe://example.org/ns/shop/sa/d }`);
    expect(paths).toEqual(expect.arrayContaining([
      'outbound.services.both.address', 'outbound.services.neither.endpoints', 'outbound.services.bad.endpoints[1]', 'outbound.services.lb.balancer',
    ]));
  });

  it('reads timeout, retry and routes; refuses them on tcp services and out of range', () => {
    const c = load(`
    orders:
      endpoints: [127.0.0.1:16006]
      identity: spiffe://example.org/ns/shop/sa/orders
      timeout: 2s
      retry: { attempts: 1 }
      routes: [{ pathPrefix: /search, timeout: 30s, retryable: true }]`);
    expect(c.outbound.services[0]).toMatchObject({
      timeoutMs: 2000,
      retry: { attempts: 1, budgetRatio: 0.2, minRetriesPerSecond: 10 },
      routes: [{ pathPrefix: '/search', timeoutMs: 30_000, retryable: true }],
    });
    const paths = issuePaths(`
    db: { address: 127.0.0.1:1, identity: spiffe://example.org/ns/shop/sa/db, protocol: tcp, listen: 127.0.0.1:15432, port: 5432, timeout: 1s }
    many: { address: 127.0.0.1:1, identity: spiffe://example.org/ns/shop/sa/m, retry: { attempts: 9, budgetRatio: 2 } }
    route: { address: 127.0.0.1:1, identity: spiffe://example.org/ns/shop/sa/r, routes: [{ pathPrefix: search }] }`);
    expect(paths).toEqual(expect.arrayContaining([
      'outbound.services.db.timeout', 'outbound.services.many.retry.attempts', 'outbound.services.many.retry.budgetRatio', 'outbound.services.route.routes[0].pathPrefix',
    ]));
  });
});
