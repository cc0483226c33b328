import { describe, expect, it } from 'vitest';
import type { KubeObject } from './kube-object.ts';
import { parseOutboundServices, servicesForWorkload, MAX_SERVICES_PER_SIDECAR } from './outbound-services.ts';
import { reconcileDiscovery, MAX_ENDPOINTS_PER_PORT, type DiscoveryCatalog } from './service-discovery.ts';

const TD = 'example.org';

function ns(name: string, meshed: boolean): KubeObject {
  return { metadata: { name, ...(meshed ? { labels: { 'ztmesh.io/inject': 'enabled' } } : {}) } };
}
function pod(name: string, namespace: string, sa: string | undefined, opts: { meshed?: boolean; ports?: { name: string; containerPort: number }[] } = {}): KubeObject {
  return {
    metadata: { name, namespace, ...(opts.meshed === false ? {} : { annotations: { 'ztmesh.io/status': '{}' } }) },
    spec: { ...(sa !== undefined ? { serviceAccountName: sa } : {}), containers: [{ name: 'app', ports: opts.ports ?? [] }] },
    status: { phase: 'Running' },
  };
}
function service(name: string, namespace: string, ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[], extra: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, namespace }, spec: { ports, ...extra } };
}
interface Ep {
  ip: string;
  pod?: string;
  ready?: boolean;
  terminating?: boolean;
  serving?: boolean;
}
function slice(name: string, namespace: string, svc: string, ports: { name?: string; port?: number | null }[], endpoints: Ep[], addressType = 'IPv4'): KubeObject {
  return {
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ...(e.ready !== undefined ? { ready: e.ready } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}), ...(e.serving !== undefined ? { serving: e.serving } : {}) },
      ...(e.pod !== undefined ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}),
    })),
  } as KubeObject;
}
function run(input: { services: KubeObject[]; endpointSlices: KubeObject[]; pods: KubeObject[]; namespaces?: KubeObject[] }): DiscoveryCatalog {
  return reconcileDiscovery({ namespaces: [ns('shop', true), ns('plain', false)], ...input, trustDomain: TD });
}
function endpointsOf(c: DiscoveryCatalog, key: string, port: number): string[] {
  return c.services.get(key)?.ports.find((p) => p.port === port)?.endpoints.map((e) => `${e.address}:${e.port} ${e.identity}`) ?? [];
}

describe('reconcileDiscovery', () => {
  const cases: { name: string; input: Parameters<typeof run>[0]; key: string; port: number; want: string[]; leftOut?: string[] }[] = [
    {
      name: 'identity from the pod\'s service account, port from the slice',
      input: { services: [service('orders', 'shop', [{ name: 'http', port: 80, targetPort: 8080 }])], endpointSlices: [slice('orders-a', 'shop', 'orders', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1', pod: 'orders-1' }])], pods: [pod('orders-1', 'shop', 'orders')] },
      key: 'orders.shop', port: 80, want: [`10.0.0.1:8080 spiffe://${TD}/ns/shop/sa/orders`],
    },
    {
      name: 'no serviceAccountName means the default service account',
      input: { services: [service('orders', 'shop', [{ port: 80 }])], endpointSlices: [slice('s', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.1', pod: 'orders-1' }])], pods: [pod('orders-1', 'shop', undefined)] },
      key: 'orders.shop', port: 80, want: [`10.0.0.1:80 spiffe://${TD}/ns/shop/sa/default`],
    },
    {
      name: 'a named targetPort without a number in the slice is resolved from the pod\'s container ports',
      input: { services: [service('orders', 'shop', [{ name: 'http', port: 80, targetPort: 'web' }])], endpointSlices: [slice('s', 'shop', 'orders', [{ name: 'http', port: null }], [{ ip: '10.0.0.1', pod: 'orders-1' }, { ip: '10.0.0.2', pod: 'orders-2' }])], pods: [pod('orders-1', 'shop', 'orders', { ports: [{ name: 'web', containerPort: 9090 }] }), pod('orders-2', 'shop', 'orders')] },
      key: 'orders.shop', port: 80, want: [`10.0.0.1:9090 spiffe://${TD}/ns/shop/sa/orders`], leftOut: ['10.0.0.2 named port not found'],
    },
    {
      name: 'not-ready and terminating endpoints are left out (terminating ones drain), unset ready counts as ready',
      input: { services: [service('orders', 'shop', [{ port: 80 }])], endpointSlices: [slice('s', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.1', pod: 'a', ready: true }, { ip: '10.0.0.2', pod: 'b', ready: false }, { ip: '10.0.0.3', pod: 'c', ready: false, serving: true, terminating: true }, { ip: '10.0.0.4', pod: 'd' }])], pods: ['a', 'b', 'c', 'd'].map((p) => pod(p, 'shop', 'orders')) },
      key: 'orders.shop', port: 80, want: [`10.0.0.1:80 spiffe://${TD}/ns/shop/sa/orders`, `10.0.0.4:80 spiffe://${TD}/ns/shop/sa/orders`], leftOut: ['10.0.0.2 not ready', '10.0.0.3 terminating'],
    },
    {
      name: 'publishNotReadyAddresses admits not-ready endpoints, never terminating ones',
      input: { services: [service('orders', 'shop', [{ port: 80 }], { publishNotReadyAddresses: true })], endpointSlices: [slice('s', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.2', pod: 'b', ready: false }, { ip: '10.0.0.3', pod: 'c', terminating: true }])], pods: ['b', 'c'].map((p) => pod(p, 'shop', 'orders')) },
      key: 'orders.shop', port: 80, want: [`10.0.0.2:80 spiffe://${TD}/ns/shop/sa/orders`], leftOut: ['10.0.0.3 terminating'],
    },
    {
      name: 'pods without the sidecar, unknown pods and endpoints without a pod reference are left out: no identity is guessed',
      input: { services: [service('orders', 'shop', [{ port: 80 }])], endpointSlices: [slice('s', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.1', pod: 'bare' }, { ip: '10.0.0.2', pod: 'ghost' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4', pod: 'meshed' }])], pods: [pod('bare', 'shop', 'orders', { meshed: false }), pod('meshed', 'shop', 'orders')] },
      key: 'orders.shop', port: 80, want: [`10.0.0.4:80 spiffe://${TD}/ns/shop/sa/orders`], leftOut: ['10.0.0.1 pod not meshed', '10.0.0.2 pod unknown', '10.0.0.3 no pod reference'],
    },
    {
      name: 'several slices per service are merged, duplicates once, sorted',
      input: { services: [service('orders', 'shop', [{ port: 80 }])], endpointSlices: [slice('s2', 'shop', 'orders', [{ port: 8081 }], [{ ip: '10.0.0.2', pod: 'b' }]), slice('s1', 'shop', 'orders', [{ port: 8080 }], [{ ip: '10.0.0.1', pod: 'a' }, { ip: '10.0.0.1', pod: 'a' }]), slice('other', 'shop', 'payments', [{ port: 80 }], [{ ip: '10.0.0.9', pod: 'a' }])], pods: [pod('a', 'shop', 'orders'), pod('b', 'shop', 'orders-v2')] },
      key: 'orders.shop', port: 80, want: [`10.0.0.1:8080 spiffe://${TD}/ns/shop/sa/orders`, `10.0.0.2:8081 spiffe://${TD}/ns/shop/sa/orders-v2`],
    },
    {
      name: 'IPv6 slices are used, FQDN slices are not',
      input: { services: [service('orders', 'shop', [{ port: 80 }])], endpointSlices: [slice('v6', 'shop', 'orders', [{ port: 80 }], [{ ip: 'fd00::1', pod: 'a' }], 'IPv6'), slice('fqdn', 'shop', 'orders', [{ port: 80 }], [{ ip: 'db.example.com', pod: 'a' }], 'FQDN')], pods: [pod('a', 'shop', 'orders')] },
      key: 'orders.shop', port: 80, want: [`fd00::1:80 spiffe://${TD}/ns/shop/sa/orders`],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = run(c.input);
      expect(endpointsOf(out, c.key, c.port)).toEqual(c.want);
      expect(out.leftOut.map((l) => `${l.address} ${l.reason}`).sort()).toEqual((c.leftOut ?? []).sort());
    });
  }

  it('dual ports: each Service port gets the endpoints of the slice port of the same name', () => {
    const out = run({
      services: [service('api', 'shop', [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'grpc', port: 9090, targetPort: 'grpc' }, { name: 'dns', port: 53, protocol: 'UDP' }])],
      endpointSlices: [slice('s', 'shop', 'api', [{ name: 'http', port: 8080 }, { name: 'grpc', port: 50051 }, { name: 'dns', port: 53 }], [{ ip: '10.0.0.1', pod: 'a' }])],
      pods: [pod('a', 'shop', 'api')],
    });
    const svc = out.services.get('api.shop')!;
    expect(svc.ports.map((p) => [p.name, p.port, p.endpoints.map((e) => e.port)])).toEqual([['http', 80, [8080]], ['grpc', 9090, [50051]]]);
  });

  it('a Service is meshed by its namespace label or by a meshed endpoint pod; an empty one in a meshed namespace stays (503 at the client)', () => {
    const out = run({
      services: [service('empty', 'shop', [{ port: 80 }]), service('bare', 'plain', [{ port: 80 }]), service('mixed', 'plain', [{ port: 80 }]), service('ext', 'shop', [{ port: 80 }], { type: 'ExternalName' })],
      endpointSlices: [slice('b', 'plain', 'bare', [{ port: 80 }], [{ ip: '10.0.1.1', pod: 'bare-1' }]), slice('m', 'plain', 'mixed', [{ port: 80 }], [{ ip: '10.0.1.2', pod: 'mixed-1', ready: false }])],
      pods: [pod('bare-1', 'plain', 'x', { meshed: false }), pod('mixed-1', 'plain', 'mixed')],
    });
    expect([...out.services.keys()].sort()).toEqual(['empty.shop', 'mixed.plain']);
    expect(out.services.get('empty.shop')!.ports[0]!.endpoints).toEqual([]);
  });

  it('versions change with the endpoint set only, and are independent of input order', () => {
    const pods = [pod('a', 'shop', 'orders'), pod('b', 'shop', 'orders')];
    const svc = [service('orders', 'shop', [{ port: 80 }]), service('payments', 'shop', [{ port: 80 }])];
    const s1 = slice('s1', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.1', pod: 'a' }]);
    const s2 = slice('s2', 'shop', 'orders', [{ port: 80 }], [{ ip: '10.0.0.2', pod: 'b' }]);
    const a = run({ services: svc, endpointSlices: [s1, s2], pods });
    const b = run({ services: [...svc].reverse(), endpointSlices: [s2, s1], pods: [...pods].reverse() });
    expect(b.services.get('orders.shop')!.version).toBe(a.services.get('orders.shop')!.version);
    const c = run({ services: svc, endpointSlices: [s1], pods });
    expect(c.services.get('orders.shop')!.version).not.toBe(a.services.get('orders.shop')!.version);
    expect(c.services.get('payments.shop')!.version).toBe(a.services.get('payments.shop')!.version);
  });

  it('bounds the endpoints per port', () => {
    const many = Array.from({ length: MAX_ENDPOINTS_PER_PORT + 5 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, pod: 'a' }));
    const out = run({ services: [service('big', 'shop', [{ port: 80 }])], endpointSlices: [slice('s', 'shop', 'big', [{ port: 80 }], many)], pods: [pod('a', 'shop', 'big')] });
    expect(out.services.get('big.shop')!.ports[0]!.endpoints).toHaveLength(MAX_ENDPOINTS_PER_PORT);
    expect(out.leftOut.filter((l) => l.reason === 'over limit')).toHaveLength(5);
  });
});

describe('which Services a sidecar gets', () => {
  const catalog = run({ services: ['orders', 'payments', 'db'].map((n) => service(n, 'shop', [{ port: 80 }])), endpointSlices: [], pods: [] });

  it('every meshed Service without the annotation; only the listed ones with it (NAME means the pod\'s namespace)', () => {
    expect([...servicesForWorkload(catalog, parseOutboundServices(undefined, 'shop')).services.keys()]).toEqual(['db.shop', 'orders.shop', 'payments.shop']);
    expect([...servicesForWorkload(catalog, parseOutboundServices('orders, payments.shop unknown.bank', 'shop')).services.keys()]).toEqual(['orders.shop', 'payments.shop']);
    expect([...servicesForWorkload(catalog, parseOutboundServices('', 'shop')).services.keys()]).toEqual([]);
  });

  it('reports entries that name nothing valid and keeps the valid ones', () => {
    const sel = parseOutboundServices('orders,Bad_Name,a.b.c', 'shop');
    expect(sel.keys).toEqual(['orders.shop']);
    expect(sel.problems).toHaveLength(2);
    expect(sel.problems[0]).toContain('Bad_Name');
  });

  it('bounds the number of Services per sidecar', () => {
    const big = run({ services: Array.from({ length: MAX_SERVICES_PER_SIDECAR + 3 }, (_, i) => service(`s${i}`, 'shop', [{ port: 80 }])), endpointSlices: [], pods: [] });
    const out = servicesForWorkload(big, undefined);
    expect(out.services.size).toBe(MAX_SERVICES_PER_SIDECAR);
    expect(out.truncated).toBe(3);
  });
});
