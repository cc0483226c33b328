import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileDenyList } from './deny-list.ts';
import { defaultMeshConfig, meshConfigSchema } from './mesh-config.ts';

describe('mesh config', () => {
  it('defaults to zero trust: DENY, strict path normalization, empty deny list', () => {
    expect(defaultMeshConfig()).toMatchObject({ trustDomain: 'cluster.local', rootNamespace: 'ztmesh-system', defaultAction: 'DENY', pathNormalization: 'strict', denyList: { spiffeIds: [], serials: [] } });
  });

  it('rate limits are opt-in: absent section limits nothing, a written section turns them on', () => {
    expect(defaultMeshConfig().rateLimit.enabled).toBe(false);
    expect(meshConfigSchema.parse({ rateLimit: {} }).rateLimit.enabled).toBe(true);
  });

  it('accepts the example of docs/policy.md', () => {
    const readme = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const config = meshConfigSchema.parse(parse(yaml));
    expect(config.rateLimit.routes[0]!.name).toBe('orders-write');
    const deny = compileDenyList(config.denyList);
    expect(deny.hasSpiffeId('spiffe://cluster.local/ns/shop/sa/stolen')).toBe(true);
    expect(deny.hasSerial('0A1B2C')).toBe(true);
    expect(deny.hasSerial('00:0a:1b:2c')).toBe(true);
    expect(deny.hasSerial('0a1b2d')).toBe(false);
  });

  it.each([
    [{ defaultAction: 'MAYBE' }, 'defaultAction'],
    [{ trustDomain: 'Cluster.Local' }, 'trustDomain'],
    [{ denyList: { spiffeIds: ['not-an-id'] } }, 'denyList.spiffeIds.0'],
    [{ denyList: { serials: ['xyz'] } }, 'denyList.serials.0'],
    [{ pathNormalization: 'none' }, 'pathNormalization'],
    [{ rateLimit: { perSourceIp: { requestsPerSecond: -1, burst: 1 } } }, 'rateLimit.perSourceIp.requestsPerSecond'],
    [{ unknown: true }, ''],
  ])('refuses %j', (input, path) => {
    const r = meshConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
