import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.ts';

describe('RetryBudget', () => {
  it('allows retries up to the ratio of requests in the window', () => {
    const b = new RetryBudget(0.2, 0);
    for (let i = 0; i < 100; i++) b.deposit(1_000);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.withdraw(1_000)) allowed++;
    expect(allowed).toBe(20);
  });

  it('grants the per-second floor without traffic, and forgets after the window', () => {
    const b = new RetryBudget(0.2, 1);
    let allowed = 0;
    for (let i = 0; i < 50; i++) if (b.withdraw(1_000)) allowed++;
    expect(allowed).toBe(10); // 1/s over a 10 s window
    expect(b.withdraw(7_000)).toBe(false); // still in the window (previous bucket)
    expect(b.withdraw(30_000)).toBe(true); // both buckets expired
  });

  it('a zero budget never retries', () => {
    const b = new RetryBudget(0, 0);
    for (let i = 0; i < 10; i++) b.deposit(1);
    expect(b.withdraw(1)).toBe(false);
  });
});
