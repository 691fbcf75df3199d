import type { Logger } from '@aws-lambda-powertools/logger';
import { comparePositions, lowestPosition, type RecordPosition } from '../kinesis/index';
import type { BatchTimings } from './batch-timings';
import { NO_SPAN, type TraceSpan } from './batch-trace';
import { type CursorStore, firstIndexAfter } from './cursors';
import { failedOutside, type Job, type JobContext, type JobOutcome, runJob, skipped } from './jobs';
import { StageResults, type Stages } from './stages';
import type { StreamRecord } from './stream-record';

export interface RunJobsInput<T, S> {
  readonly jobs: { readonly [name: string]: Job<T, S> };
  readonly selected: readonly string[];
  readonly stages: S & Stages<T>;
  readonly records: readonly StreamRecord<T>[];
  readonly cursors: CursorStore | undefined;
  readonly context: Omit<JobContext, 'job' | 'signal'>;
  readonly logger: Logger;
  /** The batch's span: each job, and each stage under the job that computed it, is a child. */
  readonly span?: TraceSpan;
  readonly timings?: BatchTimings;
}

/**
 * Runs the selected jobs concurrently, each on the records after its cursor. Jobs that start at the
 * same record share one set of stage results, so a stage is computed once per distinct starting point.
 */
export async function runJobs<T, S>(input: RunJobsInput<T, S>): Promise<JobOutcome<T>[]> {
  const { records, cursors, context } = input;
  const batchSpan = input.span ?? NO_SPAN;
  const loaded = cursors ? await cursors.load(context.shardId, input.selected) : undefined;
  const results = new Map<number, StageResults<T, S & Stages<T>>>();
  const resultsFrom = (start: number): StageResults<T, S & Stages<T>> => {
    let shared = results.get(start);
    if (!shared) {
      const from = start === 0 ? records : records.slice(start);
      shared = new StageResults(input.stages, from, input.timings);
      results.set(start, shared);
    }
    return shared;
  };
  return Promise.all(
    input.selected.map(async (job): Promise<JobOutcome<T>> => {
      try {
        const cursor = loaded?.get(job);
        const start = firstIndexAfter(records, cursor);
        if (start === records.length) return skipped(job);
        const span = batchSpan.child(`job ${job}`);
        const view = resultsFrom(start).viewFor(job, span);
        const outcome = await runJob(input.jobs[job] as Job<T, S>, view, { ...context, job });
        traceOutcome(span, outcome);
        if (cursors) await commitCursor(cursors, job, cursor, view.records, outcome, input);
        return outcome;
      } catch (error) {
        // runJob never rejects; what can is around it (a cursor that is not a position). A job
        // left out of the outcomes would have its records acknowledged unhandled: fail them all.
        return failedOutside(job, records, error);
      }
    }),
  );
}

function traceOutcome<T>(span: TraceSpan, outcome: JobOutcome<T>): void {
  span.annotate('job', outcome.job);
  span.annotate('status', outcome.status);
  span.annotate('records', outcome.records);
  span.annotate('failedRecords', outcome.failed.length);
  if (outcome.error !== undefined) span.fail(outcome.error);
  span.end();
}

/**
 * Moves a job's cursor past what it committed: all its records, or those before its first
 * failure. A cursor that cannot move only costs repeated (idempotent) work on a retry, so it is
 * logged, not failed.
 */
async function commitCursor<T, S>(
  store: CursorStore,
  job: string,
  from: RecordPosition | undefined,
  given: readonly StreamRecord<T>[],
  outcome: JobOutcome<T>,
  { context, logger }: RunJobsInput<T, S>,
): Promise<void> {
  if (outcome.status !== 'succeeded' && outcome.status !== 'partial') return;
  const lowest = lowestPosition(outcome.failed);
  const committed = lowest ? given.filter((record) => comparePositions(record, lowest) < 0) : given;
  const to = committed[committed.length - 1];
  if (to === undefined) return;
  const where = { job, shardId: context.shardId, batchId: context.batchId };
  try {
    const moved = await store.advance(context.shardId, job, from, to, context.batchId);
    if (!moved) logger.warn('cursor moved by another invocation', where);
  } catch (error) {
    logger.warn('cursor not advanced', { ...where, error: String(error) });
  }
}
