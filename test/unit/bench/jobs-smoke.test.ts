import {
  JOB_VARIANTS,
  JOBS_QUICK,
  jobsOutput,
  runJobsBenchmark,
} from '../../../bench/scenarios/jobs';

describe('jobs benchmark (quick sizes)', () => {
  it('evaluates the shared stage once under Driverless and once per job when each job recomputes it', async () => {
    // Given
    const config = { ...JOBS_QUICK, sinkMs: [1, 2, 3], stageMs: 1 };

    // When
    const result = await runJobsBenchmark(config);

    // Then
    expect(result.stageEvaluations).toStrictEqual({
      slowestAlone: 1,
      driverless: 1,
      sequential: 1,
      recompute: 3,
    });
  });

  it('summarises under the keys the --json contract names', async () => {
    // Given
    const result = await runJobsBenchmark({ ...JOBS_QUICK, sinkMs: [1, 2, 3], stageMs: 0 });

    // When
    const { summary, table } = jobsOutput(result);

    // Then
    expect(Object.keys(summary)).toStrictEqual([
      'slowestJobMs',
      'driverlessBatchMs',
      'sequentialBatchMs',
      'recomputeBatchMs',
      'stageEvaluations',
    ]);
    expect(table.rows).toHaveLength(JOB_VARIANTS.length);
  });

  it('fails if no sink time is given', async () => {
    // Given
    const config = { ...JOBS_QUICK, sinkMs: [] };

    // When / Then
    await expect(runJobsBenchmark(config)).rejects.toThrow(
      'sinkMs must be a non-empty list of times ≥ 0',
    );
  });
});
