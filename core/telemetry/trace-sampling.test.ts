import { describe, expect, it } from 'vitest';
import { shouldSample, traceIdRatioKeeps } from './trace-sampling.ts';
import { TraceIdSource } from './trace-ids.ts';

describe('shouldSample', () => {
  const ids = new TraceIdSource();

  it('follows a parent decision when parent-based, and the root sampler otherwise', () => {
    const policy = { root: 'always_off', ratio: 1, parentBased: true } as const;
    expect(shouldSample(policy, ids.newTraceId(), true)).toBe(true);
    expect(shouldSample(policy, ids.newTraceId(), undefined)).toBe(false);
    expect(shouldSample({ ...policy, parentBased: false }, ids.newTraceId(), true)).toBe(false);
    expect(shouldSample({ root: 'always_on', ratio: 0, parentBased: true }, ids.newTraceId(), false)).toBe(false);
  });

  it('keeps about the configured ratio of random trace ids, deterministically per id', () => {
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (traceIdRatioKeeps(ids.newTraceId(), 0.1)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.08);
    expect(kept / 20_000).toBeLessThan(0.12);
    const id = ids.newTraceId();
    expect(traceIdRatioKeeps(id, 0.5)).toBe(traceIdRatioKeeps(id, 0.5));
    expect(traceIdRatioKeeps(id, 0)).toBe(false);
    expect(traceIdRatioKeeps(id, 1)).toBe(true);
  });
});
