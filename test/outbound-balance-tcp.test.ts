import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SpiffeId } from '../core/spiffe/spiffe-id.ts';
import { counterValue, SERVER_ID } from './fixtures/pki-pair.ts';
import { BalanceMesh, type Backend } from './outbound-balance-mesh.ts';

let mesh: BalanceMesh | undefined;
let echo: Server | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  echo?.close();
  echo = undefined;
});

/** One round trip over a new app connection to the TCP service's local listener. */
function roundTrip(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    s.on('error', () => resolve('error'));
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).toString() === 'ping') s.end();
    });
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    s.write('ping');
  });
}

const accepted = (b: Backend): number => counterValue(b.metrics, 'ztmesh_sidecar_connections_total{direction="inbound"}');

describe('outbound opaque TCP balancing', () => {
  it('spreads connections over the endpoints and never uses one with the wrong identity', async () => {
    echo = createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as { port: number }).port;
    mesh = await BalanceMesh.create();
    const a = await mesh.backend('a', { tcpPorts: [echoPort] });
    const b = await mesh.backend('b', { tcpPorts: [echoPort] });
    const evil = await mesh.backend('evil', { sa: 'evil', tcpPorts: [echoPort] });
    await mesh.startOutbound([], 'p2c-ewma', [
      // round-robin: the wrong-identity endpoint is certainly tried (p2c would mostly avoid the untried one)
      { name: 'db', identity: SERVER_ID as SpiffeId, balancer: 'round-robin', endpoints: [a.address, evil.address, b.address], protocol: 'tcp', listen: { host: '127.0.0.1', port: 0 }, port: echoPort },
    ]);
    const port = mesh.outbound.tcpListeners.get('db')!.port;
    const replies: string[] = [];
    for (let i = 0; i < 40; i++) replies.push(await roundTrip(port));
    expect(replies.every((r) => r === 'ping')).toBe(true);
    console.info(`tcp connections: a=${accepted(a)} b=${accepted(b)}`);
    expect(accepted(a)).toBeGreaterThan(8);
    expect(accepted(b)).toBeGreaterThan(8);
    expect(counterValue(mesh.metrics, `ztmesh_endpoint_ejections_total{service="db",endpoint="${evil.address.host}:${evil.address.port}"}`)).toBeGreaterThanOrEqual(1);
  });

  it('updateService replaces the endpoints of a TCP service at runtime; an http target for it is refused', async () => {
    echo = createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as { port: number }).port;
    mesh = await BalanceMesh.create();
    const a = await mesh.backend('a', { tcpPorts: [echoPort] });
    const b = await mesh.backend('b', { tcpPorts: [echoPort] });
    const db = { name: 'db', identity: SERVER_ID as SpiffeId, endpoints: [a.address], protocol: 'tcp', listen: { host: '127.0.0.1', port: 0 }, port: echoPort } as const;
    await mesh.startOutbound([], 'p2c-ewma', [db]);
    const port = mesh.outbound.tcpListeners.get('db')!.port;
    for (let i = 0; i < 5; i++) expect(await roundTrip(port)).toBe('ping');
    mesh.outbound.updateService('db', { ...db, endpoints: [b.address] });
    const before = accepted(a);
    for (let i = 0; i < 5; i++) expect(await roundTrip(port)).toBe('ping');
    expect(accepted(a)).toBe(before);
    expect(accepted(b)).toBe(5);
    expect(() => mesh!.outbound.updateService('db', { ...db, protocol: 'http' })).toThrow(expect.objectContaining({ code: 'ZTMESH_CONFIG_INVALID' }));
  });
});
