import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { startOperatorDashboard } from './operator-dashboard.ts';
import { latestPerWorkload, PeerReports, toPeerReport } from './peer-reports.ts';
import { apiRow, inventoryOf, reportMessage } from './report-fixtures.ts';
import { ReportStore } from './report-store.ts';
import { validateReport } from './validate-report.ts';

const TOKEN = 'peer-token-0123456789abcdef';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function storeWith(workload: string, service: string): ReportStore {
  const store = new ReportStore({ logger: silentLogger() });
  store.receive({ workload, identity: `spiffe://example.org/ns/shop/sa/${service}`, streamId: 1 }, reportMessage({ inventoryJson: JSON.stringify(inventoryOf(service, [apiRow(service, 'GET', `/${service}/{id}`, { extraField: 7 })])) }));
  return store;
}

describe('operator replicas read each other\'s reports (each sidecar streams to one replica)', () => {
  it('a kept report survives the trip to a peer unchanged (extra inventory fields included)', () => {
    const store = storeWith('shop/orders-1', 'orders');
    const [held] = store.reports();
    const again = validateReport(toPeerReport(held!).message);
    expect(again.inventory).toEqual(held!.report.inventory);
    expect(again.samples).toEqual(held!.report.samples);
    expect(again.identity).toEqual(held!.report.identity);
  });

  it('each replica\'s dashboard and /inventory show the reports of both; a broken peer only loses its own part', async () => {
    let peers: string[] = [];
    const a = await startOperatorDashboard({ listen: { host: '127.0.0.1', port: 0 }, token: TOKEN, store: storeWith('shop/orders-1', 'orders'), logger: silentLogger(), peers: async () => peers, peerIntervalMs: 50 });
    cleanup.push(() => a.close());
    const b = await startOperatorDashboard({ listen: { host: '127.0.0.2', port: a.port }, token: TOKEN, store: storeWith('shop/web-1', 'web'), logger: silentLogger(), peers: async () => peers, peerIntervalMs: 50 });
    cleanup.push(() => b.close());
    const junk = createServer((_req, res) => res.end('[{"workload": 1}]'));
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', r));
    cleanup.push(() => junk.close());
    peers = [`127.0.0.1:${a.port}`, `127.0.0.2:${a.port}`, `127.0.0.1:${(junk.address() as AddressInfo).port}`];
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      const inventory = await waitFor(async () => {
        const res = await fetch(`http://${host}:${a.port}/inventory`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = (await res.json()) as { sources: { workload: string }[]; apis: Record<string, unknown>[] };
        return body.sources.length === 2 ? body : undefined;
      });
      expect(inventory.sources.map((s) => s.workload)).toEqual(['shop/orders-1', 'shop/web-1']);
      expect(inventory.apis.map((x) => [x['route'], x['extraField']])).toEqual([['/orders/{id}', 7], ['/web/{id}', 7]]);
    }
    // The peers' path needs the token like everything else.
    expect((await fetch(`http://127.0.0.1:${a.port}/api/reports`)).status).toBe(401);
  });

  it('a pod reported by two replicas (it reconnected) counts once, with its latest report', () => {
    const older = storeWith('shop/orders-1', 'orders').reports()[0]!;
    const newer = { ...older, report: { ...older.report, generatedAt: older.report.generatedAt + 10_000 } };
    expect(latestPerWorkload([older], [newer])).toEqual([newer]);
    expect(latestPerWorkload([newer], [older])).toEqual([newer]);
  });

  it('an unresolvable peer name leaves the peers\' part empty and is retried', async () => {
    const peers = new PeerReports({ resolve: () => Promise.reject(new Error('ENOTFOUND')), token: TOKEN, logger: silentLogger() });
    await peers.refresh();
    expect(peers.reports()).toEqual([]);
    expect(peers.version).toBe(1);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
