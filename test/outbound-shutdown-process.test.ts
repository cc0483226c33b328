import { createServer, request, Agent, type Server } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { createTestCa } from '../ca/testing/test-ca.ts';
import { writeIdentityFiles, writeSidecarConfig, killAll, startSidecar, waitForReady, yaml, type ZtmeshProcess } from './helpers/sidecar-process.ts';

// A rolling restart of real `ztmesh sidecar` processes under load: each destination sidecar in
// turn gets SIGTERM (it tells its peers with Connection: close / GOAWAY while still accepting for
// drainNoticePeriod, then closes its listener), and comes back on the same address.
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-shutdown-process-'));
const apps: (Server | Http2Server)[] = [];

afterAll(async () => {
  await killAll();
  for (const app of apps) app.close();
});

interface Result {
  readonly status: number;
  readonly body: string;
}

/** One request through the frontend's outbound listener (HTTP/1.1 keep-alive, GET or POST with a body). */
function http1(outbound: string, agent: Agent, post: boolean): Promise<Result> {
  const colon = outbound.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = request(
      { host: outbound.slice(0, colon), port: Number(outbound.slice(colon + 1)), path: '/orders', method: post ? 'POST' : 'GET', headers: { host: 'orders' }, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(post ? '{"order":1}' : undefined);
  });
}

describe('graceful shutdown of destination sidecars', () => {
  for (const protocol of ['http1', 'grpc'] as const) {
    it(`${protocol}: a rolling restart (SIGTERM, then the pod comes back) under load loses no request`, async () => {
      const ca = await createTestCa({ trustDomain: TD });
      const policyFile = join(dir, `policy-${protocol}.yaml`);
      writeFileSync(policyFile, yaml({
        apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders', namespace: 'shop' },
        spec: { rules: [{ from: [{ source: { principals: [FRONTEND] } }] }] },
      }));
      const ordersId = await writeIdentityFiles(ca, dir, `orders-${protocol}`, ORDERS);
      const appPorts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const name = `pod-${i}`;
        let app: Server | Http2Server;
        if (protocol === 'grpc') {
          app = createH2Server();
          app.on('stream', (stream: ServerHttp2Stream) => {
            stream.on('error', () => undefined);
            stream.resume();
            stream.on('end', () => setTimeout(() => {
              if (stream.closed) return;
              stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
              stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
              stream.end(name);
            }, 2));
          });
        } else {
          app = createServer((req, res) => {
            req.resume();
            req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(name), 2));
          });
        }
        await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
        apps.push(app);
        appPorts.push((app.address() as AddressInfo).port);
      }
      const inbounds = await Promise.all(appPorts.map(async () => `127.0.0.1:${await freePort()}`));
      const podConfig = (i: number): string => writeSidecarConfig(dir, TD, `orders-${protocol}-${i}`, {
        workload: { namespace: 'shop', name: 'orders' },
        identity: ordersId,
        inbound: { listen: inbounds[i], app: `127.0.0.1:${appPorts[i]}` },
        outbound: { listen: '127.0.0.1:0' },
        policyFile,
        drainNoticePeriod: '500ms',
      }, '3s');
      const pods: ZtmeshProcess[] = await Promise.all([0, 1, 2].map(async (i) => (await startSidecar(podConfig(i))).proc));
      const emptyPolicy = join(dir, 'empty.yaml');
      writeFileSync(emptyPolicy, '');
      const frontend = await startSidecar(writeSidecarConfig(dir, TD, `frontend-${protocol}`, {
        workload: { namespace: 'shop', name: 'frontend' },
        identity: await writeIdentityFiles(ca, dir, `frontend-${protocol}`, FRONTEND),
        inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
        outbound: { listen: '127.0.0.1:0', services: { orders: { identity: ORDERS, endpoints: inbounds } } },
        policyFile: emptyPolicy,
      }, '2s'));
      await waitForReady(frontend.addr.admin);

      // A rolling restart as a Deployment does it (maxUnavailable 1): pod k gets SIGTERM, exits,
      // comes back on the same address and is ready before the next pod goes.
      const restartPod = async (k: number): Promise<void> => {
        await pods[k]!.stop('SIGTERM');
        // While the port is free, the client's connect attempts to it can self-connect on loopback
        // (an ephemeral source port equal to the destination) and hold it for a moment: try again.
        let started: Awaited<ReturnType<typeof startSidecar>> | undefined;
        for (let attempt = 0; started === undefined; attempt++) {
          try {
            started = await startSidecar(podConfig(k));
          } catch (err) {
            if (attempt >= 5 || !String(err).includes('EADDRINUSE')) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        pods[k] = started.proc;
        await waitForReady(started.addr.admin);
      };
      const restarts: Promise<void>[] = [];
      const rollout = (): void => {
        restarts.push((async () => {
          await restartPod(0);
          await restartPod(1);
        })());
      };
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const client = h2connect(`http://${frontend.addr.outbound}`);
      client.on('error', () => undefined);
      const grpcCall = (): Promise<Result> =>
        new Promise((resolve) => {
          const req = client.request({ ':method': 'POST', ':path': '/shop.Orders/Get', ':authority': 'orders', 'content-type': 'application/grpc', te: 'trailers' });
          let status = 0;
          let body = '';
          req.on('response', (h) => {
            status = Number(h[':status']);
            // A trailers-only answer (the sidecar's own gRPC error) carries grpc-status in the headers.
            if (h['grpc-status'] !== undefined && h['grpc-status'] !== '0') status = -Number(h['grpc-status']);
            if (typeof h['x-ztmesh-error'] === 'string') body = h['x-ztmesh-error'];
          });
          req.on('trailers', (t) => {
            if (t['grpc-status'] !== '0') status = -Number(t['grpc-status']);
          });
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.on('end', () => resolve({ status, body }));
          req.on('error', (err) => resolve({ status: 0, body: err.message }));
          req.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
        });
      const total = 1500;
      const results: Result[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++;
          if (i === 300) rollout();
          if (i === 1200) await Promise.all(restarts); // the last requests go to the restarted pods too
          results[i] = protocol === 'grpc' ? await grpcCall() : await http1(frontend.addr.outbound, agent, i % 3 === 0);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      await Promise.all(restarts);
      agent.destroy();
      client.close();
      const counts: Record<string, number> = {};
      for (const r of results) if (r.status === 200) counts[r.body] = (counts[r.body] ?? 0) + 1;
      const failed = results.filter((r) => r.status !== 200);
      console.info(`${protocol} rolling restart of 2 of 3 pods (SIGTERM, one at a time) under load: ${total - failed.length}/${total} succeeded, distribution ${JSON.stringify(counts)}`, failed.slice(0, 5));
      expect(failed).toEqual([]);
      for (const pod of ['pod-0', 'pod-1', 'pod-2']) expect(counts[pod]).toBeGreaterThan(0);
    }, 120_000);
  }
});
