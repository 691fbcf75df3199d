// Smoke runs of the keyed-state and backfill scenarios at tiny sizes: they check the scenarios work
// (and that state calls follow keys, not records), not timings.
import { runBackfillBenchmark } from '../../bench/scenarios/backfill';
import { runStateBenchmark } from '../../bench/scenarios/state';

describe('benchmark scenarios of keyed state and backfills (tiny sizes)', () => {
  it('state counts reads and writes per batch for an aggregate beside a stateless job', async () => {
    // When
    const rows = await runStateBenchmark({ batchSizes: [10, 40], keys: 5, batches: 2, runs: 1 });

    // Then: four times the records, at most the writes of the 5 keys' windows and progress
    const [small, large] = rows;
    expect(small?.statefulRecordsPerSec[0]).toBeGreaterThan(0);
    expect(small?.statelessRecordsPerSec[0]).toBeGreaterThan(0);
    expect(large?.writesPerBatch).toBeLessThan((small?.writesPerBatch ?? 0) * 4);
  });

  it('backfill and run --stream both read the whole range', async () => {
    // When
    const result = await runBackfillBenchmark({
      records: 400,
      shards: 2,
      concurrency: 2,
      slicesPerShard: 2,
      batchSize: 100,
      cpuUsPerRecord: 10,
      runs: 1,
    });

    // Then
    expect(result.backfill[0]).toBeGreaterThan(0);
    expect(result.run[0]).toBeGreaterThan(0);
  });
});
