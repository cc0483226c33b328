/**
 * The local demo mesh: three services in namespace `shop`, each behind its own sidecar, and the CA.
 * Default ports are the documented ones (docs/demo.md); a port offset shifts every port at once so
 * a second demo (a test) can run beside a user's.
 */
export const DEMO_TRUST_DOMAIN = 'example.org';
export const DEMO_NAMESPACE = 'shop';
export const DEMO_CA_IDENTITY = `spiffe://${DEMO_TRUST_DOMAIN}/ns/ztmesh-system/sa/ztmesh-ca`;

export type DemoServiceName = 'frontend' | 'orders' | 'payments';
export const DEMO_SERVICE_NAMES: readonly DemoServiceName[] = ['frontend', 'orders', 'payments'];

export interface DemoServicePorts {
  /** The plain HTTP app (frontend's is the public edge the browser opens). */
  readonly app: number;
  /** mTLS from other sidecars. */
  readonly inbound: number;
  /** Plaintext from the local app, routed by Host. */
  readonly outbound: number;
  /** /healthz /ready /metrics. */
  readonly admin: number;
}

export interface DemoService {
  readonly name: DemoServiceName;
  readonly identity: string;
  readonly ports: DemoServicePorts;
  /** The services this one's sidecar has an outbound route to. */
  readonly routes: readonly DemoServiceName[];
}

export interface DemoTopology {
  readonly caPort: number;
  readonly services: Readonly<Record<DemoServiceName, DemoService>>;
}

const BASE_CA_PORT = 8443;
const BASE_PORTS: Readonly<Record<DemoServiceName, DemoServicePorts>> = {
  frontend: { app: 8080, inbound: 15006, outbound: 15001, admin: 15000 },
  orders: { app: 8081, inbound: 16006, outbound: 16001, admin: 16000 },
  payments: { app: 8082, inbound: 17006, outbound: 17001, admin: 17000 },
};
// frontend has a route to payments on purpose: the network path exists, policy is what refuses it.
const ROUTES: Readonly<Record<DemoServiceName, readonly DemoServiceName[]>> = {
  frontend: ['orders', 'payments'],
  orders: ['payments'],
  payments: [],
};

export const MAX_PORT_OFFSET = 65535 - 17006;

export function workloadIdentity(name: string): string {
  return `spiffe://${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/${name}`;
}

export function demoTopology(portOffset = 0): DemoTopology {
  const shift = (ports: DemoServicePorts): DemoServicePorts => ({
    app: ports.app + portOffset,
    inbound: ports.inbound + portOffset,
    outbound: ports.outbound + portOffset,
    admin: ports.admin + portOffset,
  });
  const service = (name: DemoServiceName): DemoService => ({
    name,
    identity: workloadIdentity(name),
    ports: shift(BASE_PORTS[name]),
    routes: ROUTES[name],
  });
  return {
    caPort: BASE_CA_PORT + portOffset,
    services: { frontend: service('frontend'), orders: service('orders'), payments: service('payments') },
  };
}

/** Every port of the topology with what it is for, in start-up order. */
export function listPorts(topology: DemoTopology): { readonly port: number; readonly role: string }[] {
  const out = [{ port: topology.caPort, role: 'CA (ztmesh ca serve)' }];
  for (const name of DEMO_SERVICE_NAMES) {
    const p = topology.services[name].ports;
    out.push(
      { port: p.app, role: `${name} app` },
      { port: p.inbound, role: `${name} sidecar inbound` },
      { port: p.outbound, role: `${name} sidecar outbound` },
      { port: p.admin, role: `${name} sidecar admin` },
    );
  }
  return out;
}
