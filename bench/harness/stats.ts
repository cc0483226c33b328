/** The median of a list of numbers (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** The nearest-rank percentile `p` (0..100) of already sorted values; NaN when empty. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  // Rounded first so that 99.9% of 1000 is rank 999, not 1000 through floating-point noise.
  const rank = Math.ceil(Number(((p / 100) * sorted.length).toFixed(6)));
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** `a / b`, or NaN when either is not a finite number or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}
