import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { DEFAULT_TTL_POLICY, resolveTtl, ttlPolicyFrom } from './ttl-policy.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('TTL policy', () => {
  it('defaults to 1h within [5m, 24h]', () => {
    expect(ttlPolicyFrom({})).toEqual({ defaultMs: 3_600_000, minMs: 300_000, maxMs: 86_400_000 });
    expect(resolveTtl(DEFAULT_TTL_POLICY, undefined)).toBe(3_600_000);
    expect(resolveTtl(DEFAULT_TTL_POLICY, '')).toBe(3_600_000);
  });

  it('accepts the bounds themselves and durations between', () => {
    expect(resolveTtl(DEFAULT_TTL_POLICY, '5m')).toBe(300_000);
    expect(resolveTtl(DEFAULT_TTL_POLICY, '24h')).toBe(86_400_000);
    expect(resolveTtl(DEFAULT_TTL_POLICY, '30m')).toBe(1_800_000);
  });

  it('refuses TTLs out of bounds instead of clamping', () => {
    expect(codeOf(() => resolveTtl(DEFAULT_TTL_POLICY, '4m'))).toBe('ZTMESH_CA_TTL_OUT_OF_BOUNDS');
    expect(codeOf(() => resolveTtl(DEFAULT_TTL_POLICY, '25h'))).toBe('ZTMESH_CA_TTL_OUT_OF_BOUNDS');
    expect(codeOf(() => resolveTtl(DEFAULT_TTL_POLICY, 0))).toBe('ZTMESH_CA_TTL_OUT_OF_BOUNDS');
    expect(codeOf(() => resolveTtl(DEFAULT_TTL_POLICY, 'forever'))).toBe('ZTMESH_CONFIG_BAD_DURATION');
  });

  it('allows a configured minimum down to 30s, not below', () => {
    expect(resolveTtl(ttlPolicyFrom({ minTtl: '1m' }), '1m')).toBe(60_000);
    expect(ttlPolicyFrom({ minTtl: '30s' }).minMs).toBe(30_000);
    expect(codeOf(() => ttlPolicyFrom({ minTtl: '29s' }))).toBe('ZTMESH_CA_BAD_TTL_BOUNDS');
  });

  it('refuses inconsistent bounds', () => {
    expect(codeOf(() => ttlPolicyFrom({ minTtl: '2h', maxTtl: '1h' }))).toBe('ZTMESH_CA_BAD_TTL_BOUNDS');
    expect(codeOf(() => ttlPolicyFrom({ defaultTtl: '48h' }))).toBe('ZTMESH_CA_BAD_TTL_BOUNDS');
  });
});
