import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { type ChildGroup, waitForPort } from './child-processes.ts';
import { freePort } from './free-port.ts';
import { appConfig } from './nginx-config.ts';
import type { AppKind } from './bench-env.ts';

const GRPC_APP_SCRIPT = fileURLToPath(new URL('./grpc-app.ts', import.meta.url));

/**
 * Starts the app every contender fronts, once per benchmark run: nginx (one worker) serving
 * /small (13 bytes), /1k and /1m over HTTP/1.1 and h2c, and the grpc-js Echo server.
 */
export async function startApps(group: ChildGroup, tmpDir: string, nodeBin: string): Promise<Record<AppKind, number>> {
  const ports: Record<AppKind, number> = { http1: await freePort(), h2c: await freePort(), grpc: await freePort() };
  const dir = join(tmpDir, 'app');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '1k.bin'), Buffer.alloc(1024, 'k'));
  await writeFile(join(dir, '1m.bin'), Buffer.alloc(1024 * 1024, 'm'));
  await writeFile(join(dir, 'nginx.conf'), appConfig(dir, dir, ports.http1, ports.h2c));
  const nginx = group.start({ name: 'app-nginx', command: 'nginx', args: ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'] });
  const grpc = group.start({ name: 'app-grpc', command: nodeBin, args: [GRPC_APP_SCRIPT, String(ports.grpc)] });
  await waitForPort(ports.http1, nginx);
  await waitForPort(ports.h2c, nginx);
  await waitForPort(ports.grpc, grpc);
  return ports;
}
