// Smoke run of the many-shards benchmark at tiny sizes: it checks the scenario works (every record
// processed on every size, memory sampled for each part), not timings.
import { runShardsBenchmark, SHARDS_QUICK, shardsOutput } from '../../bench/scenarios/shards';

describe('shards benchmark (quick sizes)', () => {
  it('processes every size and samples the memory of each part of the stack', async () => {
    // When
    const runs = await runShardsBenchmark(SHARDS_QUICK);

    // Then
    expect(runs.map((run) => run.shards)).toStrictEqual([...SHARDS_QUICK.shardCounts]);
    for (const run of runs) {
      expect(run.recordsPerSec).toBeGreaterThan(0);
      expect(run.peak.kinesisServerMb).toBeGreaterThan(0);
      expect(run.peak.environments).toBeGreaterThanOrEqual(run.shards);
      expect(run.peak.environmentsMb).toBeGreaterThan(0);
    }
    expect(Object.keys(shardsOutput(SHARDS_QUICK, runs).summary)).toStrictEqual([
      'shards1',
      'shards2',
    ]);
  });
});
