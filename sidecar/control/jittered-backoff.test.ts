import { describe, expect, it } from 'vitest';
import { JitteredBackoff } from './jittered-backoff.ts';

describe('JitteredBackoff', () => {
  it('doubles up to the cap and stays within [d/2, d]', () => {
    const low = new JitteredBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([low.next(), low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new JitteredBackoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 800, 1000]);
  });

  it('starts over after reset', () => {
    const b = new JitteredBackoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('refuses nonsense bounds', () => {
    expect(() => new JitteredBackoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new JitteredBackoff({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});
