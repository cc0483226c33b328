import { describe, expect, it } from 'vitest';
import { median, percentileOfSorted, ratio } from './stats.ts';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('ignores non-finite values and is NaN for nothing', () => {
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});

describe('percentileOfSorted', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentileOfSorted(values, 50)).toBe(500);
    expect(percentileOfSorted(values, 99)).toBe(990);
    expect(percentileOfSorted(values, 99.9)).toBe(999);
    expect(percentileOfSorted(values, 100)).toBe(1000);
    expect(percentileOfSorted([7], 0)).toBe(7);
  });
});

describe('ratio', () => {
  it('is NaN rather than Infinity or a guess when a side is missing', () => {
    expect(ratio(6, 3)).toBe(2);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(undefined, 2)).toBeNaN();
  });
});
