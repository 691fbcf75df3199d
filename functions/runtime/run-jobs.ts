import type { Logger } from '@aws-lambda-powertools/logger';
import { comparePositions, lowestPosition, type RecordPosition } from '../kinesis/index';
import type { BatchTimings } from './batch-timings';
import { NO_SPAN, type TraceSpan } from './batch-trace';
import { type CursorStore, firstIndexAfter } from './cursors';
import { failedOutside, type Job, type JobContext, type JobOutcome, runJob, skipped } from './jobs';
import { StageResults, type Stages } from './stages';
import type { StreamRecord } from './stream-record';
import { isCutOff, withinDeadline } from './within-deadline';

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
 * Cursors not loaded by the deadline fail every job's records: no job can be told where to start.
 */
export async function runJobs<T, S>(input: RunJobsInput<T, S>): Promise<JobOutcome<T>[]> {
  const { records, cursors, context } = input;
  const batchSpan = input.span ?? NO_SPAN;
  let loaded: ReadonlyMap<string, RecordPosition> | undefined;
  if (cursors) {
    try {
      loaded = await withinDeadline(context.deadline, 'loading the cursors', (signal) =>
        cursors.load(context.shardId, input.selected, { signal }),
      );
    } catch (error) {
      // An error the store answered with fails the invocation, as it always did (Lambda retries
      // the batch whole); a load cut off at the deadline must still let the invocation answer.
      if (!isCutOff(error)) throw error;
      input.logger.error('cursors not loaded; every job fails its records', {
        shardId: context.shardId,
        batchId: context.batchId,
        error: describeError(error),
      });
      return input.selected.map((job) => failedOutside(job, records, error));
    }
  }
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
        const cutOff = cursors
          ? await commitCursor(cursors, job, cursor, view.records, outcome, input)
          : undefined;
        // The job's effects are applied, but whether its cursor moved is unknown: fail its
        // records, so the retry hands them to it again (from wherever the cursor now is).
        if (cutOff) {
          return {
            ...outcome,
            status: 'failed',
            failed: view.records,
            error: describeError(cutOff),
          };
        }
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
 * failure. A store that answers with an error leaves the cursor where it was, which only costs
 * repeated (idempotent) work on a retry, so it is logged, not failed. A commit cut off by the
 * deadline (or aborted) resolves with its error: the caller fails the job's records.
 */
async function commitCursor<T, S>(
  store: CursorStore,
  job: string,
  from: RecordPosition | undefined,
  given: readonly StreamRecord<T>[],
  outcome: JobOutcome<T>,
  { context, logger }: RunJobsInput<T, S>,
): Promise<unknown> {
  if (outcome.status !== 'succeeded' && outcome.status !== 'partial') return undefined;
  const lowest = lowestPosition(outcome.failed);
  const committed = lowest ? given.filter((record) => comparePositions(record, lowest) < 0) : given;
  const to = committed[committed.length - 1];
  if (to === undefined) return undefined;
  const where = { job, shardId: context.shardId, batchId: context.batchId };
  try {
    const moved = await withinDeadline(
      context.deadline,
      `committing the cursor of "${job}"`,
      (signal) => store.advance(context.shardId, job, from, to, context.batchId, { signal }),
    );
    if (!moved) logger.warn('cursor moved by another invocation', where);
    return undefined;
  } catch (error) {
    if (isCutOff(error)) {
      logger.error('cursor not committed; the job fails its records', {
        ...where,
        error: describeError(error),
      });
      return error;
    }
    logger.warn('cursor not advanced', { ...where, error: String(error) });
    return undefined;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
