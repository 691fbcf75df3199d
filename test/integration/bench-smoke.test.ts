// Smoke runs of the benchmark scenarios that need the local stack's pieces (emulator processes,
// function processes), at tiny sizes: they check the scenarios work, not timings.
import { CURSORS_QUICK, cursorsOutput, runCursorsBenchmark } from '../../bench/scenarios/cursors';
import { LOCAL_QUICK, localOutput, runLocalBenchmark } from '../../bench/scenarios/local';
import {
  runStarvationBenchmark,
  STARVATION_QUICK,
  STARVATION_VARIANTS,
  starvationOutput,
} from '../../bench/scenarios/starvation';
import { runUpgradeBenchmark, UPGRADE_QUICK, upgradeOutput } from '../../bench/scenarios/upgrade';

describe('benchmark scenarios on the local stack (quick sizes)', () => {
  it('starvation measures the cheap source in all three variants', async () => {
    // When
    const result = await runStarvationBenchmark(STARVATION_QUICK);

    // Then
    for (const variant of STARVATION_VARIANTS) {
      expect(result.samples[variant]).toHaveLength(1);
      expect(result.samples[variant][0]?.recordsPerSec).toBeGreaterThan(0);
    }
    expect(Object.keys(starvationOutput(result).summary)).toStrictEqual([
      'soloP99Ms',
      'isolatedP99Ms',
      'singleDriverP99Ms',
    ]);
  });

  it('upgrade loses no record while the code is replaced, and ends on the new version', async () => {
    // When
    const result = await runUpgradeBenchmark({ ...UPGRADE_QUICK, durationMs: 1500 });

    // Then
    expect(upgradeOutput(result).summary).toMatchObject({ lost: 0, batchingWindowMs: 1000 });
    expect(result.runs[0]?.versions).toContain('2');
  });

  it('local compares end to end with raw GetRecords on the same records', async () => {
    // When
    const { summary } = localOutput(await runLocalBenchmark(LOCAL_QUICK));

    // Then
    expect(Object.keys(summary)).toStrictEqual([
      'endToEndRecordsPerSec',
      'emulatorRawRecordsPerSec',
      'p50Ms',
      'p99Ms',
    ]);
    expect(summary.endToEndRecordsPerSec).toBeGreaterThan(0);
  });

  it('cursors measures microBatch with and without DynamoDB cursors', async () => {
    // When
    const result = await runCursorsBenchmark(CURSORS_QUICK);

    // Then
    expect(Object.keys(cursorsOutput(result).summary)).toStrictEqual([
      'withRecordsPerSec',
      'withoutRecordsPerSec',
    ]);
    expect(result.recordsSeen.with).toBe(result.recordsSeen.without);
  });
});
