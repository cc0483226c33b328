import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Registry } from '../../core/telemetry/metrics.ts';
import type { DiscoveredEndpointMessage, ServiceDiscoveryMessage } from '../../operator/distribute/distribution-proto.ts';
import { lookupService } from '../outbound/service-table.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { DiscoveredServices } from './discovered-services.ts';

const TD = 'example.org';
const id = (ns: string, sa: string) => `spiffe://${TD}/ns/${ns}/sa/${sa}`;
const ep = (address: string, port: number, identity = id('shop', 'orders'), pod = 'shop/p'): DiscoveredEndpointMessage => ({ address, port, identity, pod });
let n = 0;
function update(services: { name: string; namespace: string; ports: { port: number; endpoints: DiscoveredEndpointMessage[] }[] }[], opts: { full?: boolean; removed?: string[] } = {}): ServiceDiscoveryMessage {
  return { version: `d-${++n}`, full: opts.full ?? false, services: services.map((s) => ({ ...s, ports: s.ports.map((p) => ({ name: '', ...p })) })), removed: opts.removed ?? [] };
}
function setup(): { d: DiscoveredServices; calls: ServiceTarget[]; registry: Registry } {
  const registry = new Registry();
  const d = new DiscoveredServices({ namespace: 'shop', trustDomain: TD, logger: silentLogger(), metrics: registry });
  const calls: ServiceTarget[] = [];
  d.attach({ updateService: (name, t) => calls.push({ ...t, name }) });
  return { d, calls, registry };
}
const summary = (calls: readonly ServiceTarget[]) => calls.map((t) => `${t.name} ${t.identity} ${t.endpoints.map((e) => `${e.host}:${e.port}`).join(',')}`);

describe('discovered services → outbound routes', () => {
  it('keys each Service port by NAME.NS:PORT, and NAME:PORT in the sidecar\'s own namespace, with the pushed identity', () => {
    const { d, calls } = setup();
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 8080)] }] }, { name: 'ledger', namespace: 'bank', ports: [{ port: 9090, endpoints: [ep('10.0.1.1', 50051, id('bank', 'ledger'))] }] }], { full: true }));
    expect(summary(calls).sort()).toEqual([
      `ledger.bank:9090 ${id('bank', 'ledger')} 10.0.1.1:50051`,
      `orders.shop:80 ${id('shop', 'orders')} 10.0.0.1:8080`,
      `orders:80 ${id('shop', 'orders')} 10.0.0.1:8080`,
    ]);
  });

  it('an identical endpoint set (in another order) causes no update at all; a change updates only its routes', () => {
    const { d, calls } = setup();
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80), ep('10.0.0.2', 80)] }] }, { name: 'pay', namespace: 'bank', ports: [{ port: 80, endpoints: [ep('10.0.1.1', 80, id('bank', 'pay'))] }] }], { full: true }));
    calls.length = 0;
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.2', 80), ep('10.0.0.1', 80)] }] }]));
    expect(calls).toEqual([]);
    d.apply(update([{ name: 'pay', namespace: 'bank', ports: [{ port: 80, endpoints: [ep('10.0.1.1', 80, id('bank', 'pay')), ep('10.0.1.2', 80, id('bank', 'pay'))] }] }]));
    expect(summary(calls)).toEqual([`pay.bank:80 ${id('bank', 'pay')} 10.0.1.1:80,10.0.1.2:80`]);
  });

  it('a removed service (or port without endpoints) keeps its route with no endpoints: a prompt 503, not NO_ROUTE', () => {
    const { d, calls } = setup();
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80)] }] }], { full: true }));
    calls.length = 0;
    d.apply(update([], { removed: ['orders.shop'] }));
    expect(summary(calls).sort()).toEqual([`orders.shop:80 ${id('shop', 'orders')} `, `orders:80 ${id('shop', 'orders')} `]);
    calls.length = 0;
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [] }] }]));
    expect(calls).toEqual([]);
    // Never seen with an endpoint: no identity to require, so no route at all.
    d.apply(update([{ name: 'fresh', namespace: 'shop', ports: [{ port: 80, endpoints: [] }] }]));
    expect(d.routes().has('fresh:80')).toBe(false);
  });

  it('a full update drops every service it does not list', () => {
    const { d, calls } = setup();
    d.apply(update([{ name: 'a', namespace: 'x', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80, id('x', 'a'))] }] }, { name: 'b', namespace: 'x', ports: [{ port: 80, endpoints: [ep('10.0.0.2', 80, id('x', 'b'))] }] }], { full: true }));
    calls.length = 0;
    d.apply(update([{ name: 'b', namespace: 'x', ports: [{ port: 80, endpoints: [ep('10.0.0.2', 80, id('x', 'b'))] }] }], { full: true }));
    expect(summary(calls)).toEqual([`a.x:80 ${id('x', 'a')} `]);
  });

  it('endpoints under several service accounts: only the majority identity\'s are used, never under a borrowed identity', () => {
    const { d, calls } = setup();
    d.apply(update([{ name: 'orders', namespace: 'bank', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80, id('bank', 'orders')), ep('10.0.0.2', 80, id('bank', 'orders')), ep('10.0.0.3', 80, id('bank', 'web'))] }] }], { full: true }));
    expect(summary(calls)).toEqual([`orders.bank:80 ${id('bank', 'orders')} 10.0.0.1:80,10.0.0.2:80`]);
  });

  it('refuses an invalid update whole (identity of another trust domain or shape, non-IP address, bad port) and keeps the previous routes', () => {
    const { d, calls, registry } = setup();
    d.apply(update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80)] }] }], { full: true }));
    const before = d.version;
    calls.length = 0;
    for (const bad of [
      update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.9', 80, 'spiffe://evil.org/ns/shop/sa/orders')] }] }]),
      update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('10.0.0.9', 80, 'spiffe://example.org/orders')] }] }]),
      update([{ name: 'orders', namespace: 'shop', ports: [{ port: 80, endpoints: [ep('orders.shop', 80)] }] }]),
      update([{ name: 'orders', namespace: 'shop', ports: [{ port: 0, endpoints: [] }] }]),
      update([{ name: 'Orders!', namespace: 'shop', ports: [] }]),
      { ...update([]), version: 'abc' },
    ]) {
      let code: string | undefined;
      try {
        d.apply(bad);
      } catch (err) {
        code = errorCode(err);
      }
      expect(code).toBe('ZTMESH_CONTROL_DISCOVERY_REJECTED');
    }
    expect(calls).toEqual([]);
    expect(d.version).toBe(before);
    expect(registry.render()).toContain('ztmesh_sidecar_discovery_updates_total{result="rejected"} 6');
  });

  it('updates received before the outbound server exists are applied when it is attached', () => {
    const d = new DiscoveredServices({ namespace: 'shop', trustDomain: TD, logger: silentLogger(), metrics: new Registry() });
    d.apply(update([{ name: 'orders', namespace: 'bank', ports: [{ port: 80, endpoints: [ep('10.0.0.1', 80, id('bank', 'orders'))] }] }], { full: true }));
    const calls: string[] = [];
    d.attach({ updateService: (name) => calls.push(name) });
    expect(calls).toEqual(['orders.bank:80']);
  });
});

describe('outbound lookup of discovered names', () => {
  const routes = new Map([['orders.shop:80', 'own-80'], ['orders:80', 'own-80'], ['orders.shop:9090', 'own-9090'], ['ledger.bank:80', 'bank']]);
  it.each([
    ['orders', 80, 'own-80'],
    ['orders.shop', 80, 'own-80'],
    ['orders.shop.svc', 80, 'own-80'],
    ['orders.shop.svc.cluster.local', 80, 'own-80'],
    ['orders.shop.svc.cluster.local.', 9090, 'own-9090'],
    ['ledger.bank.svc.cluster.local', 80, 'bank'],
    ['orders', 8080, undefined],
    // Never reduced to the own namespace's `orders`: another namespace's service is not this one.
    ['orders.bank', 80, undefined],
    ['ledger', 80, undefined],
  ])('%s port %d → %s', (host, port, want) => {
    expect(lookupService(routes, host, port)).toBe(want);
  });
});
