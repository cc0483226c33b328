import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, exchange, plainConnect, startPair, type Pair } from './fixtures/pki-pair.ts';

let app: Server;
let echo: NetServer;
let echoPort: number;
let closedPort: number;
let pair: Pair;

beforeAll(async () => {
  app = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/slow') setTimeout(() => res.end('slow done'), 300);
      else res.end('ok');
    });
  });
  app.on('upgrade', (req, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  echo = createNetServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  closedPort = echoPort === 65535 ? 65534 : echoPort + 1;
  pair = await startPair({
    app: { host: '127.0.0.1', port: (app.address() as { port: number }).port },
    tcpPorts: [echoPort],
    tcpServices: [
      { name: 'db', port: echoPort },
      { name: 'forbidden', port: closedPort },
    ],
  });
});

afterAll(async () => {
  await pair.close();
  await new Promise<void>((r) => app.close(() => r()));
  await new Promise<void>((r) => echo.close(() => r()));
});

function readUntil(socket: Socket, marker: string): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const on = (c: Buffer): void => {
      data += c.toString('latin1');
      if (data.includes(marker)) {
        socket.off('data', on);
        resolve(data);
      }
    };
    socket.on('data', on);
  });
}

describe('upgrades, half-closes, TCP and drain', () => {
  it('switches to a raw bidirectional pipe after a 101 (WebSocket upgrade echo)', async () => {
    const socket = plainConnect(pair.outbound.address.port);
    const head = readUntil(socket, '\r\n\r\n');
    socket.write('GET /ws HTTP/1.1\r\nHost: orders\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(await head).toMatch(/^HTTP\/1\.1 101 [\s\S]*upgrade: websocket/i);
    const back = readUntil(socket, 'frame-2');
    socket.write('frame-1 ');
    socket.write('frame-2');
    expect(await back).toContain('frame-1 frame-2');
    socket.destroy();
  });

  it('answers a request whose client half-closed after sending it', async () => {
    const socket = plainConnect(pair.outbound.address.port);
    const res = new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('close', () => resolve(data));
    });
    socket.end('GET / HTTP/1.1\r\nHost: orders\r\n\r\n');
    expect(await res).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
  });

  it('carries opaque TCP over ALPN ztmesh-tcp, with half-close', async () => {
    const port = pair.outbound.tcpListeners.get('db')!.port;
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.on('error', () => undefined);
    const all = new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('end', () => resolve(data));
    });
    socket.write('hello ');
    socket.end('tcp');
    expect(await all).toBe('hello tcp');
    socket.destroy();
  });

  it('refuses TCP to a port the inbound does not expose', async () => {
    const port = pair.outbound.tcpListeners.get('forbidden')!.port;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const data = await exchange(socket, 'x', 3000);
    expect(data).toBe('');
    expect(counterValue(pair.inboundMetrics, 'ztmesh_sidecar_refusals_total{direction="inbound",code="ZTMESH_SIDECAR_DENIED"}')).toBeGreaterThan(0);
  });

  it('drains: the in-flight request finishes with Connection: close, new connections are refused', async () => {
    const p2 = await startPair({ app: { host: '127.0.0.1', port: (app.address() as { port: number }).port } }, pair.pki);
    const socket = plainConnect(p2.outbound.address.port);
    const res = exchange(socket, 'GET /slow HTTP/1.1\r\nHost: orders\r\n\r\n', 3000);
    await new Promise((r) => setTimeout(r, 100));
    const drained = p2.outbound.drain(2000);
    const raw = await res;
    await drained;
    expect(raw).toMatch(/^HTTP\/1\.1 200[\s\S]*connection: close\r\n[\s\S]*slow done$/i);
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: p2.outbound.address.port });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? ''));
      s.on('connect', () => resolve('connected'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await p2.close();
  });
});
