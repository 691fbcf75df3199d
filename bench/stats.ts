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

/**
 * The {@link flatness} of the per-run ratios `a[i] / b[i]`: of two variants measured in turn in
 * each run, a drift of the machine moves both and cancels here, while a cost one of them
 * accumulates over runs does not.
 */
export function pairedFlatness(a: readonly number[], b: readonly number[], window = 5): Flatness {
  if (a.length !== b.length) {
    throw new RangeError(
      `paired samples must have equal lengths (given ${a.length} and ${b.length})`,
    );
  }
  return flatness(
    a.map((value, i) => value / (b[i] as number)),
    window,
  );
}

/** How much a series moved between its first and last runs. */
export interface Flatness {
  /** Median of the first `window` runs. */
  readonly first: number;
  /** Median of the last `window` runs. */
  readonly last: number;
  /** `last / first - 1`: -0.5 means the last runs measured half of the first ones. */
  readonly change: number;
  /** Runs in each window: `window` when the series has at least twice as many, else half of it. */
  readonly window: number;
}

/**
 * Compares the median of the first `window` runs with the median of the last `window` runs: a
 * benchmark whose figures drift run over run (something accumulating in the process, a machine
 * heating up or filling up) shows it here, whatever the spread of single runs. The windows never
 * overlap, so a short series compares its halves.
 */
export function flatness(values: readonly number[], window = 5): Flatness {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`window must be an integer ≥ 1 (given ${window})`);
  }
  if (values.length < 2) {
    throw new RangeError(`flatness needs at least 2 runs (given ${values.length})`);
  }
  const size = Math.min(window, Math.floor(values.length / 2));
  const first = median(values.slice(0, size));
  const last = median(values.slice(values.length - size));
  return { first, last, change: last / first - 1, window: size };
}
