import { addCounts } from '../../../cli/backfill/orchestrate';
import {
  type BackfillCounts,
  tallyJobBatch,
} from '../../../functions/runtime/backfill/backfill-event';

function countsOf(...batches: [string, { status: string; records: number; failed: number }][]) {
  const counts: BackfillCounts = {
    batches: batches.length,
    invocations: batches.length,
    records: 0,
    deadLettered: 0,
    failed: 0,
    jobs: {},
  };
  for (const [job, outcome] of batches) tallyJobBatch(counts.jobs, job, outcome);
  return counts;
}

describe('backfill counts', () => {
  test('tally a job batch by its status, as driverless run does', () => {
    // When
    const counts = countsOf(
      ['load', { status: 'succeeded', records: 10, failed: 0 }],
      ['load', { status: 'timed-out', records: 5, failed: 5 }],
    );

    // Then
    expect(counts.jobs.load).toStrictEqual({
      batches: 2,
      succeeded: 1,
      partial: 0,
      failed: 0,
      timedOut: 1,
      skipped: 0,
      records: 15,
      failedRecords: 5,
    });
  });

  test('add up over slices, each job once per batch', () => {
    // Given
    const total = countsOf(['load', { status: 'succeeded', records: 10, failed: 0 }]);

    // When
    addCounts(total, countsOf(['load', { status: 'partial', records: 4, failed: 1 }]));
    addCounts(total, countsOf(['index', { status: 'succeeded', records: 4, failed: 0 }]));

    // Then
    expect(total.jobs.load).toMatchObject({ batches: 2, succeeded: 1, partial: 1, records: 14 });
    expect(total.jobs.index).toMatchObject({ batches: 1, succeeded: 1, records: 4 });
    expect(total.batches).toBe(3);
  });
});
