import { createHash } from 'node:crypto';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type CursorStore, cursorsFromEnvironment, firstIndexAfter } from './cursors';
import type { DeadLetter, DeadLetterSink } from './dead-letter';
import { deadLettersFromEnvironment } from './dead-letter-sinks';
import { type DecodedBatch, decodeEvent } from './decode-event';
import type { Decoder } from './decoders';
import { ENVIRONMENT } from './environment';
import { ConfigurationError } from './errors';
import { type Job, type JobOutcome, runJob, selectJobs, skipped } from './jobs';
import type { BatchResponse, KinesisEvent } from './kinesis-event';
import { comparePositions, lowestPosition, type RecordPosition } from './sequence-numbers';
import { type JobInput, type Stages, stageView } from './stages';
import type { StreamRecord } from './stream-record';
import { type BatchReport, Telemetry } from './telemetry';
import { isFreshState, type WindowContext, type WindowOptions } from './windows';

/** Options of {@link microBatch}. */
// `NoInfer` makes `decode` the only source of `T`, so stages and jobs are typed from it.
export interface MicroBatchOptions<T, S, State> {
  /** Turns each record's bytes into `T`: `json(schema)`, `utf8()`, `bytes()` or your own function. */
  readonly decode: Decoder<T>;
  /** Named functions of the batch's records; each runs at most once per batch, only if a job reads it. */
  readonly stages?: S & Stages<NoInfer<T>>;
  /** Named jobs, run concurrently; each destructures the stages it needs. */
  readonly jobs?: { readonly [name: string]: Job<NoInfer<T>, S> };
  /** Tumbling-window state, for mappings with `tumblingWindow` set. */
  readonly window?: WindowOptions<NoInfer<T>, State>;
  /**
   * Where undecodable records go.
   * @default - the queue or bucket named by DRIVERLESS_DEAD_LETTER_QUEUE_URL / _BUCKET
   */
  readonly deadLetters?: DeadLetterSink;
  /**
   * Per-job cursors, so a retried batch never repeats a job that already committed it.
   * @default - DynamoDB cursors when DRIVERLESS_CHECKPOINT_TABLE is set (`checkpoints: true`), else none
   */
  readonly cursors?: CursorStore;
  /**
   * Time kept free before Lambda's timeout; jobs still running then count as failed, so the
   * invocation can still answer with an exact partial response.
   * @default 1000
   */
  readonly deadlineMarginMs?: number;
}

/** The Lambda handler `microBatch` returns: a middy handler, so any middy middleware can `.use()` it. */
export type MicroBatchHandler<State = never> = MiddyfiedHandler<
  KinesisEvent,
  BatchResponse<State>,
  Error,
  Context
>;

/** The id of a batch: the same records from the same shard always get the same id. */
export function batchIdOf(batch: DecodedBatch<unknown>): string {
  return createHash('sha256')
    .update(
      `${batch.streamArn}|${batch.shardId}|${batch.firstSequenceNumber}|${batch.lastSequenceNumber}`,
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * Builds a Kinesis micro-batch handler: one decode per batch, stages computed once and shared,
 * jobs run concurrently, undecodable records dead-lettered, and an exact partial-batch response.
 */
export function microBatch<T, S = Record<never, never>, State = never>(
  options: MicroBatchOptions<T, S, State>,
): MicroBatchHandler<State> {
  const stages = (options.stages ?? {}) as S & Stages<T>;
  const jobs = options.jobs ?? {};
  checkOptions(options, stages, jobs);
  const selected = selectJobs(Object.keys(jobs), process.env[ENVIRONMENT.jobs]);
  const deadLetters = options.deadLetters ?? deadLettersFromEnvironment();
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const source = process.env[ENVIRONMENT.source] ?? functionName ?? 'local';
  const telemetry = new Telemetry(
    process.env.POWERTOOLS_SERVICE_NAME ?? process.env[ENVIRONMENT.pipeline] ?? 'driverless',
  );
  const marginMs = options.deadlineMarginMs ?? 1000;
  const cursors = options.cursors ?? cursorsFromEnvironment(process.env, functionName);

  /**
   * Moves a job's cursor past what it committed: all its records, or those before its first
   * failure. A cursor that cannot move only costs repeated (idempotent) work on a retry, so it is
   * logged, not failed.
   */
  async function advanceCursor(
    store: CursorStore,
    shardId: string,
    job: string,
    from: RecordPosition | undefined,
    given: readonly StreamRecord<T>[],
    outcome: JobOutcome<T>,
    batchId: string,
  ): Promise<void> {
    if (outcome.status !== 'succeeded' && outcome.status !== 'partial') return;
    const lowest = lowestPosition(outcome.failed);
    const committed = lowest
      ? given.filter((record) => comparePositions(record, lowest) < 0)
      : given;
    const to = committed[committed.length - 1];
    if (to === undefined) return;
    try {
      const moved = await store.advance(shardId, job, from, to, batchId);
      if (!moved)
        telemetry.logger.warn('cursor moved by another invocation', { job, shardId, batchId });
    } catch (error) {
      telemetry.logger.warn('cursor not advanced', { job, shardId, batchId, error: String(error) });
    }
  }

  async function processBatch(
    event: KinesisEvent,
    context: Context,
  ): Promise<BatchResponse<State>> {
    const started = performance.now();
    const batch = decodeEvent(event, options.decode);
    const batchId = batchIdOf(batch);
    const deadLetteredAt = new Date().toISOString();
    const letters: DeadLetter[] = batch.rejected.map((rejected) => ({
      ...rejected,
      source,
      ...(functionName === undefined ? {} : { functionName }),
      batchId,
      deadLetteredAt,
    }));
    // Dead letters are delivered while the jobs run; undelivered ones fail the batch below.
    const delivery = deadLetters.send(letters).catch((error: unknown) => {
      telemetry.logger.error('dead letters could not be delivered; the batch is reported failed', {
        batchId,
        deadLetters: letters.length,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      return letters;
    });
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline =
      remaining === undefined ? Number.POSITIVE_INFINITY : Date.now() + remaining - marginMs;

    const outcomes: JobOutcome<T>[] = [];
    if (batch.records.length > 0) {
      const records = batch.records;
      const loaded = cursors ? await cursors.load(batch.shardId, selected) : undefined;
      // One view per starting point: jobs at the same cursor share every stage they read.
      const views = new Map<number, JobInput<T, S & Stages<T>>>();
      const viewFrom = (start: number) => {
        let view = views.get(start);
        if (!view) {
          view = stageView(stages, start === 0 ? records : records.slice(start));
          views.set(start, view);
        }
        return view;
      };
      const common = {
        batchId,
        shardId: batch.shardId,
        streamArn: batch.streamArn,
        deadline,
        lambda: context,
      };
      const settled = await Promise.allSettled(
        selected.map(async (job): Promise<JobOutcome<T>> => {
          const cursor = loaded?.get(job);
          const start = firstIndexAfter(records, cursor);
          if (start === records.length) return skipped(job);
          const input = viewFrom(start);
          const outcome = await runJob(jobs[job] as Job<T, S>, input, { ...common, job });
          if (cursors) {
            await advanceCursor(
              cursors,
              batch.shardId,
              job,
              cursor,
              input.records,
              outcome,
              batchId,
            );
          }
          return outcome;
        }),
      );
      for (const result of settled) if (result.status === 'fulfilled') outcomes.push(result.value);
    }
    const undelivered = await delivery;

    const failures: RecordPosition[] = [...undelivered];
    for (const outcome of outcomes) failures.push(...outcome.failed);
    const lowest = lowestPosition(failures);
    const response: BatchResponse<State> = {
      batchItemFailures: lowest ? [{ itemIdentifier: lowest.sequenceNumber }] : [],
    };
    if (event.window !== undefined) {
      response.state = await foldWindow(event, batch, lowest, batchId, context);
    }

    const lastArrival = batch.lastArrivalSeconds;
    const report: BatchReport = {
      source,
      shardId: batch.shardId,
      batchId,
      records: batch.records.length + batch.rejected.length,
      deadLetters: letters.length,
      undeliveredDeadLetters: undelivered.length,
      jobs: Object.fromEntries(
        outcomes.map(({ job, failed, ...rest }) => [job, { ...rest, failed: failed.length }]),
      ),
      iteratorAgeMs: lastArrival === undefined ? undefined : Date.now() - lastArrival * 1000,
      failedFrom: lowest?.sequenceNumber,
      durationMs: performance.now() - started,
    };
    telemetry.report(report);
    return response;
  }

  /**
   * Folds the good records before the first failure into the window state (a retry starts at
   * that failure, with the state returned here), and closes the window on its final invocation.
   */
  async function foldWindow(
    event: KinesisEvent,
    batch: DecodedBatch<T>,
    lowest: RecordPosition | undefined,
    batchId: string,
    context: Context,
  ): Promise<State> {
    const incoming = event.state as State;
    const window = options.window;
    if (!window) return (incoming ?? {}) as State;
    const windowContext: WindowContext = {
      window: { start: new Date(event.window!.start), end: new Date(event.window!.end) },
      shardId: batch.shardId,
      streamArn: batch.streamArn,
      batchId,
      isFinal: event.isFinalInvokeForWindow === true,
      terminatedEarly: event.isWindowTerminatedEarly === true,
      lambda: context,
    };
    const before = lowest
      ? batch.records.filter((record) => comparePositions(record, lowest) < 0)
      : batch.records;
    const state = window.reduce(
      isFreshState(incoming) ? window.init() : incoming,
      before,
      windowContext,
    );
    if (windowContext.isFinal && !lowest) await window.onClose?.(state, windowContext);
    return state;
  }

  return middy(processBatch) as unknown as MicroBatchHandler<State>;
}

function checkOptions<T, S, State>(
  options: MicroBatchOptions<T, S, State>,
  stages: Stages<T>,
  jobs: Record<string, unknown>,
): void {
  const problems: string[] = [];
  const decode: unknown = options.decode;
  if (
    typeof decode !== 'function' &&
    typeof (decode as { fromBytes?: unknown })?.fromBytes !== 'function'
  ) {
    problems.push('decode must be a decoder: json(schema), utf8(), bytes() or (bytes) => value');
  }
  if (Object.keys(jobs).length === 0 && !options.window) {
    problems.push('give at least one job (jobs: { name: async (input, ctx) => ... }) or a window');
  }
  if ('records' in stages)
    problems.push('a stage cannot be named "records": jobs receive the records under that name');
  for (const [name, job] of Object.entries(jobs)) {
    if (typeof job !== 'function') problems.push(`jobs.${name} must be a function`);
    if (name.includes(',') || name.startsWith('!'))
      problems.push(`job name "${name}" cannot contain "," or start with "!"`);
  }
  for (const [name, stage] of Object.entries(stages)) {
    if (typeof stage !== 'function')
      problems.push(`stages.${name} must be a function of the records`);
  }
  if (problems.length > 0) throw new ConfigurationError(`microBatch: ${problems.join('; ')}`);
}
