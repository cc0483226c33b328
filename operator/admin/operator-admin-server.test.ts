import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import type { InformerHealth } from '../kube/resilient-informer.ts';
import { startOperatorAdmin } from './operator-admin-server.ts';

describe('operator admin endpoint', () => {
  it('is ready only while every watch is synced and healthy, naming the failing ones', async () => {
    const informers: InformerHealth[] = [
      { name: 'pods', synced: true, healthy: true, restarts: 0, lastError: undefined },
      { name: 'authorizationpolicies', synced: true, healthy: true, restarts: 0, lastError: undefined },
    ];
    const admin = await startOperatorAdmin({ listen: '127.0.0.1:0', logger: silentLogger(), informers: () => informers, view: () => ({ workloads: [] }) });
    try {
      const base = `http://127.0.0.1:${admin.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      informers[1] = { name: 'authorizationpolicies', synced: true, healthy: false, restarts: 2, lastError: '500 Internal Server Error' };
      const notReady = await fetch(`${base}/ready`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { informers: InformerHealth[] }).informers.filter((i) => !i.healthy).map((i) => i.name)).toEqual(['authorizationpolicies']);
      expect(await (await fetch(`${base}/status`)).json()).toEqual({ workloads: [] });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/status`, { method: 'POST' })).status).toBe(405);
    } finally {
      await admin.close();
    }
  });

  it('refuses an address that is not HOST:PORT', async () => {
    await expect(startOperatorAdmin({ listen: 'nonsense', logger: silentLogger(), informers: () => [], view: () => ({}) })).rejects.toMatchObject({ code: 'ZTMESH_CONTROL_BAD_OPTIONS' });
  });
});
