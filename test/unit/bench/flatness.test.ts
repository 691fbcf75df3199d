import {
  handlerOutput,
  QUICK,
  runHandlerBenchmark,
  VARIANTS,
  worstDrift,
} from '../../../bench/scenarios/handler';
import { flatness, pairedFlatness } from '../../../bench/stats';

describe('benchmark flatness', () => {
  it('compares the median of the first five runs with the median of the last five', () => {
    // Given: a series that halves over its runs, with an outlier in each window
    const runs = [500, 480, 900, 490, 470, 400, 350, 300, 260, 240, 250, 10, 230, 245];

    // When
    const result = flatness(runs, 5);

    // Then
    expect(result).toStrictEqual({ first: 490, last: 240, change: 240 / 490 - 1, window: 5 });
  });

  it('compares the halves of a series shorter than two windows', () => {
    // Given
    const runs = [100, 120, 90, 60];

    // When
    const result = flatness(runs, 5);

    // Then
    expect(result).toStrictEqual({ first: 110, last: 75, change: 75 / 110 - 1, window: 2 });
  });

  it('compares the per-run ratios of two series, so a drift both share cancels', () => {
    // Given: both variants slow down by half over the runs; the first also loses a tenth of its
    // own speed in its last runs
    const b = [100, 100, 100, 100, 80, 60, 50, 50, 50, 50];
    const a = b.map((value, i) => value * (i < 5 ? 1 : 0.9));

    // When
    const result = pairedFlatness(a, b, 3);

    // Then
    expect(result.change).toBeCloseTo(-0.1, 10);
  });

  it('fails for fewer than two runs', () => {
    // When / Then
    expect(() => flatness([100], 5)).toThrow('flatness needs at least 2 runs (given 1)');
  });

  it('names the variant that moved furthest, in either direction, and whether all stayed within tolerance', () => {
    // Given
    const at = (change: number) => ({ first: 100, last: 100 * (1 + change), change, window: 5 });
    const of = {
      handLoop: at(-0.04),
      powertools: at(0.02),
      driverless: at(-0.06),
      handLoopZod: at(0.12),
      powertoolsParser: at(0),
      driverlessZod: at(-0.01),
    };

    // When
    const verdict = worstDrift(of, 0.1);

    // Then
    expect(verdict).toStrictEqual({ variant: 'handLoopZod', change: 0.12, flat: false });
  });

  it('reports first-vs-last runs of every variant and the memory held after each run', async () => {
    // Given
    const config = { ...QUICK, records: 50, runs: 3 };

    // When
    const result = await runHandlerBenchmark(config);
    const { detail } = handlerOutput(result);

    // Then
    expect(Object.keys(result.cpuFlatness ?? {})).toStrictEqual([...VARIANTS]);
    expect(result.flatness?.driverless.window).toBe(1);
    expect(result.retainedMiB).toHaveLength(3);
    expect(detail.flatness).toMatchObject({ tolerance: 0.1 });
  });
});
