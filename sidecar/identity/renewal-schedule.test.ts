import { describe, expect, it } from 'vitest';
import { backoffDelay, renewalAt } from './renewal-schedule.ts';

describe('renewalAt', () => {
  it('renews at 45%..55% of the lifetime left when received', () => {
    expect(renewalAt(0, 100_000, 0, 0)).toBe(45_000);
    expect(renewalAt(0, 100_000, 0, 0.5)).toBe(50_000);
    expect(renewalAt(0, 100_000, 0, 0.999999)).toBe(55_000);
  });

  it('ignores a back-dated notBefore (regression: a 30s SVID back-dated 30s renewed at once, in a loop)', () => {
    const now = 1_000_000;
    expect(renewalAt(now - 30_000, now + 30_000, now, 0.5)).toBe(now + 15_000);
  });

  it('never schedules sooner than 1s after receipt while the SVID is valid', () => {
    expect(renewalAt(0, 5000, 3000, 0)).toBe(4000);
    // Less than 1s left: at expiry, not in a loop before it.
    expect(renewalAt(0, 1500, 1000, 0)).toBe(1500);
  });
});

describe('backoffDelay', () => {
  it('doubles from 1s up to the 30s cap, with equal jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoffDelay(a, 1))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(0, 0)).toBe(500);
    expect(backoffDelay(10, 0)).toBe(15000);
  });
});
