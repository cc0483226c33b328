import { createServer, Agent, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { createTestCa, type TestCa } from '../ca/testing/test-ca.ts';
import { writeIdentityFiles, writeSidecarConfig, httpGet, killAll, metricValue, startSidecar, waitForReady, yaml, type ZtmeshProcess } from './helpers/sidecar-process.ts';

// Real `ztmesh sidecar` processes: one client sidecar configured with `endpoints:`, three destination pods.
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;
const dir = mkdtempSync(join(tmpdir(), 'ztmesh-balance-process-'));
const apps: Server[] = [];

const identity = (ca: TestCa, name: string, spiffeId: string) => writeIdentityFiles(ca, dir, name, spiffeId);

const config = (name: string, body: Record<string, unknown>): string => writeSidecarConfig(dir, TD, name, body, '2s');

afterAll(async () => {
  await killAll();
  for (const app of apps) app.close();
});

describe('ztmesh sidecar processes with several endpoints', () => {
  it('balances per request over three destination sidecars and survives killing one under load', async () => {
    const ca = await createTestCa({ trustDomain: TD });
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, yaml({
      apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'orders', namespace: 'shop' },
      spec: { rules: [{ from: [{ source: { principals: [FRONTEND] } }] }] },
    }));
    const ordersId = await identity(ca, 'orders', ORDERS);
    const inFlight = [0, 0, 0];
    const startPod = async (i: number): Promise<{ proc: ZtmeshProcess; inbound: string }> => {
      const app = createServer((_req, res) => {
        inFlight[i]!++;
        setTimeout(() => {
          inFlight[i]!--;
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`pod-${i}`);
        }, 1);
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      apps.push(app);
      const inbound = `127.0.0.1:${await freePort()}`;
      const started = await startSidecar(config(`orders-${i}`, {
        workload: { namespace: 'shop', name: 'orders' },
        identity: ordersId,
        inbound: { listen: inbound, app: `127.0.0.1:${(app.address() as AddressInfo).port}` },
        outbound: { listen: '127.0.0.1:0' },
        policyFile,
      }));
      return { proc: started.proc, inbound };
    };
    const pods = await Promise.all([startPod(0), startPod(1), startPod(2)]);
    const emptyPolicy = join(dir, 'empty.yaml');
    writeFileSync(emptyPolicy, '');
    const frontend = await startSidecar(config('frontend', {
      workload: { namespace: 'shop', name: 'frontend' },
      identity: await identity(ca, 'frontend', FRONTEND),
      inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
      outbound: { listen: '127.0.0.1:0', services: { orders: { identity: ORDERS, endpoints: pods.map((p) => p.inbound) } } },
      policyFile: emptyPolicy,
    }));
    await waitForReady(frontend.addr.admin);

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const counts: Record<string, number> = {};
    let failed = 0;
    let inFlightAtKill = -1;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 600) {
        const i = next++;
        if (i === 300) {
          inFlightAtKill = inFlight[1]!;
          await pods[1]!.proc.stop('SIGKILL');
        }
        const r = await httpGet(frontend.addr.outbound, '/orders', { host: 'orders', agent });
        if (r.status === 200) counts[r.body] = (counts[r.body] ?? 0) + 1;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    agent.destroy();
    console.info(`processes: distribution over 3 pods, pod-1 SIGKILLed after 300 of 600 requests: ${JSON.stringify(counts)}, failed ${failed} (in pod-1's app at the kill: ${inFlightAtKill})`);
    expect(failed).toBeLessThanOrEqual(inFlightAtKill);
    for (const pod of ['pod-0', 'pod-2']) expect(counts[pod]).toBeGreaterThan(150);
    expect(counts['pod-1']).toBeGreaterThan(50);
    const metrics = (await httpGet(frontend.addr.admin, '/metrics')).body;
    expect(metricValue(metrics, `ztmesh_endpoint_requests_total{service="orders",endpoint="${pods[0]!.inbound}",status_class="2xx"}`)).toBe(counts['pod-0']);
  }, 90_000);
});
