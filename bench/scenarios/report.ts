// Helpers the scenarios share to summarise, format and chart repeated measurements.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { barChart } from '../bar-chart';
import { describeMachine, type Machine } from '../machine';
import type { JsonValue } from '../scenario';
import { type Spread, spread } from '../stats';

/** The p-th percentile (0–100) of values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`p must be between 0 and 100 (given ${p})`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** A spread with its runs, as stored in latest.json. */
export function spreadJson(values: readonly number[], digits = 2): JsonValue {
  const s = spread(values);
  const round = (value: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  return { median: round(s.median), min: round(s.min), max: round(s.max), runs: values.map(round) };
}

/** "123 (110–140)": the median with the min–max of the runs. */
export function cell(values: readonly number[], digits = 0): string {
  const s: Spread = spread(values);
  const f = (value: number) =>
    value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return values.length === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Rounds for the `--json` summary. */
export function round(value: number, digits = 1): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
  readonly note?: string;
}

/** A bar chart of medians with min–max whiskers. */
export function spreadChart(
  title: string,
  subtitle: string,
  unit: string,
  series: readonly ChartSeries[],
  m: Machine,
): string {
  return barChart({
    title,
    subtitle,
    unit,
    footer: describeMachine(m),
    bars: series.map((s) => ({
      label: s.label,
      ...spread(s.values),
      color: s.color,
      ...(s.note === undefined ? {} : { note: s.note }),
    })),
  });
}

/** Checks that every named count is an integer of at least `minimum`. */
export function checkIntegers(config: object, keys: readonly string[], minimum: number): void {
  for (const key of keys) {
    const value = (config as Record<string, unknown>)[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      throw new RangeError(`${key} must be an integer ≥ ${minimum} (given ${String(value)})`);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Burns CPU for `microseconds` (a CPU-bound stand-in for per-record work). */
export function spin(microseconds: number): void {
  if (microseconds <= 0) return;
  const until = performance.now() + microseconds / 1000;
  while (performance.now() < until) {
    // busy
  }
}

/**
 * This process's scratch directory for bundles and generated apps, under the git-ignored
 * bench/results/tmp/: one per process, so a test and a benchmark run never share files.
 */
export function scratchDir(...parts: string[]): string {
  return join(__dirname, '..', 'results', 'tmp', String(process.pid), ...parts);
}

/** Removes this process's scratch directory. */
export function removeScratch(): void {
  rmSync(scratchDir(), { recursive: true, force: true });
}

/** A note on how busy the machine was: latencies on a shared machine include waiting for a CPU. */
export function loadNote(loadAverage: number, cores: number): string {
  return loadAverage > cores
    ? `load average ${loadAverage} on ${cores} cores: above the core count, times include waiting for a CPU (other work on the machine)`
    : `load average ${loadAverage} on ${cores} cores`;
}
