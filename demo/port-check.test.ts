import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../core/errors/mesh-error.ts';
import { assertPortsFree } from './port-check.ts';

describe('port check', () => {
  it('names every port that is taken, with its role', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const err = await assertPortsFree([{ port, role: 'orders app' }]).catch((e: unknown) => e);
      expect(errorCode(err)).toBe('ZTMESH_DEMO_PORT_IN_USE');
      expect(String((err as Error).message)).toContain(`127.0.0.1:${port} (orders app)`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    await expect(assertPortsFree([{ port, role: 'orders app' }])).resolves.toBeUndefined();
  });
});
