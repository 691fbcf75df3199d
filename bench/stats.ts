/** Median, min and max of repeated measurements. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * The ratio a/b taken run by run, then summarised: both sides of one run saw the same machine
 * state (load, GC, frequency), so pairing cancels what drifts between runs.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Spread {
  if (a.length !== b.length) {
    throw new RangeError(
      `paired samples must have equal lengths (given ${a.length} and ${b.length})`,
    );
  }
  return spread(a.map((value, i) => value / (b[i] as number)));
}
