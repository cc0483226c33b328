import { request } from 'node:http';
import { connect } from 'node:net';
import { MeshError } from '../core/errors/mesh-error.ts';
import { describeExit, type DemoChild } from './child-process.ts';

const POLL_MS = 100;

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => resolve(false));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('close', () => resolve(false));
    socket.on('connect', () => {
      resolve(true);
      socket.destroy();
    });
  });
}

/** Resolves true when GET http://127.0.0.1:port/path answers 200. */
export function httpOk(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 1000, agent: false }, (res) => {
      res.resume();
      res.on('error', () => resolve(false));
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Polls `probe` until it passes. Another process's readiness has no event to await, so this polls;
 * it fails at once if the child exits or `abort` fires, and with ZTMESH_DEMO_NOT_READY after `timeoutMs`.
 */
export async function waitUntilReady(
  child: DemoChild,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  abort: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (abort.aborted) throw new MeshError('ZTMESH_DEMO_NOT_READY', `start-up interrupted while waiting for ${child.name}`);
    if (exited || !child.running) {
      const exit = await child.exited;
      throw new MeshError('ZTMESH_DEMO_CHILD_EXITED', `${child.name} ${describeExit(exit)} before ${what} (see its output above)`, {
        details: { child: child.name },
      });
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new MeshError('ZTMESH_DEMO_NOT_READY', `${child.name}: ${what} did not happen within ${Math.round(timeoutMs / 1000)}s`, {
        details: { child: child.name },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
