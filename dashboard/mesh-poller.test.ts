import { describe, expect, it } from 'vitest';
import { MeshPoller } from './mesh-poller.ts';
import type { SidecarReading } from './sidecar-reading.ts';

function reading(admin: string): SidecarReading {
  return { admin, error: null, identity: null, samples: [], decisions: null, inventory: null, anomalies: null };
}

describe('MeshPoller', () => {
  it('reads every source each round, tells listeners, and keeps going after a failed round', async () => {
    let round = 0;
    const errors: unknown[] = [];
    const poller = new MeshPoller({
      sources: ['a:1', 'b:2'], intervalMs: 5, timeoutMs: 100, now: () => round * 1000,
      read: async (admin) => {
        if (admin === 'a:1') round++;
        if (round === 2) throw new Error('bug');
        return reading(admin);
      },
      onError: (err) => errors.push(err),
    });
    const seen: number[] = [];
    await poller.start();
    expect(poller.current?.workloads.map((w) => w.admin)).toEqual(['a:1', 'b:2']);
    await new Promise<void>((resolve) => {
      poller.subscribe((view) => {
        seen.push(Date.parse(view.generatedAt));
        if (seen.length === 2) resolve();
      });
    });
    poller.stop();
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([3000, 4000]);
  });
});
