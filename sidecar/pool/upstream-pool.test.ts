import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoarseTimers } from './coarse-timers.ts';
import { PlainConnector } from './plain-connector.ts';
import { UpstreamPool, type Upstream, type UpstreamOwner } from './upstream-pool.ts';

let server: Server;
let port: number;
const accepted: Socket[] = [];

beforeAll(async () => {
  server = createServer((s) => {
    s.on('error', () => undefined);
    accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** A hand-written owner recording the events it receives. */
class FakeOwner implements UpstreamOwner {
  readonly events: string[] = [];
  connected: Promise<void>;
  #resolve!: () => void;
  constructor() {
    this.connected = new Promise((r) => (this.#resolve = r));
  }
  onUpstreamConnect(): void {
    this.events.push('connect');
    this.#resolve();
  }
  onUpstreamData(): boolean {
    this.events.push('data');
    return false;
  }
  onUpstreamEnd(): void {
    this.events.push('end');
  }
  onUpstreamError(): void {
    this.events.push('error');
  }
  onUpstreamClose(): void {
    this.events.push('close');
  }
  onUpstreamDrain(): void {
    this.events.push('drain');
  }
}

describe('UpstreamPool', () => {
  it('reuses a released connection, and closes one released as not reusable', async () => {
    const timers = new CoarseTimers(25);
    const pool = new UpstreamPool('app', new PlainConnector({ host: '127.0.0.1', port }), timers, 10_000, 4);
    const owner = new FakeOwner();
    const first: Upstream = pool.acquire(owner);
    expect(first.connected).toBe(false);
    await owner.connected;
    pool.release(first, true);
    expect(pool.idleCount).toBe(1);
    const again = pool.acquire(new FakeOwner());
    expect(again).toBe(first);
    expect(again.reused).toBe(true);
    pool.release(again, false);
    expect(pool.idleCount).toBe(0);
    expect(again.socket.destroyed).toBe(true);
    pool.close();
    timers.close();
  });

  it('closes idle connections after the idle timeout, swept by the shared timer', async () => {
    const timers = new CoarseTimers(25);
    const pool = new UpstreamPool('app', new PlainConnector({ host: '127.0.0.1', port }), timers, 100, 4);
    const owner = new FakeOwner();
    const up = pool.acquire(owner);
    await owner.connected;
    pool.release(up, true);
    await new Promise<void>((resolve) => up.socket.once('close', () => resolve()));
    expect(pool.idleCount).toBe(0);
    expect(pool.size).toBe(0);
    timers.close();
  });

  it('drops an idle connection the upstream closed', async () => {
    const timers = new CoarseTimers(25);
    const pool = new UpstreamPool('app', new PlainConnector({ host: '127.0.0.1', port }), timers, 10_000, 4);
    const owner = new FakeOwner();
    const before = accepted.length;
    const up = pool.acquire(owner);
    await owner.connected;
    while (accepted.length === before) await new Promise((r) => setTimeout(r, 5));
    pool.release(up, true);
    accepted[accepted.length - 1]!.end();
    await new Promise<void>((resolve) => up.socket.once('close', () => resolve()));
    expect(pool.idleCount).toBe(0);
    pool.close();
    timers.close();
  });
});
