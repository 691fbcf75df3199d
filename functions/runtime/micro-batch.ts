import { hash } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type BatchResponse,
  compareSequenceNumbers,
  type KinesisEvent,
  lowestPosition,
  type RecordPosition,
} from '../kinesis/index';
import {
  type BackfillEvent,
  type BackfillResult,
  isBackfillEvent,
  runBackfill,
} from './backfill/index';
import { InvocationBilling, memoryMbOf } from './batch-cost';
import { BatchTimings } from './batch-timings';
import type { TraceSpan } from './batch-trace';
import { batchTracerFromEnvironment } from './batch-trace';
import { checkOptions } from './check-options';
import type { CursorStore } from './cursors';
import { cursorsFromEnvironment, isReplay } from './cursors';
import { type DeadLetter, type DeadLetterSink, letterIdOf } from './dead-letter';
import { deadLettersFromEnvironment } from './dead-letter-sinks';
import { type DecodedBatch, decodeEvent, type RejectedRecord } from './decode-event';
import type { Decoder } from './decoders';
import { deliverDeadLetters } from './deliver-dead-letters';
import { ENVIRONMENT } from './environment';
import { type Job, selectJobs } from './jobs';
import { runJobs } from './run-jobs';
import type { Stages } from './stages';
import { bindStateful, isTick, type TickEvent } from './state/bind-stateful';
import { type StateTable, stateTableFromEnvironment } from './state/state-table';
import { type BatchReport, type StageReport, Telemetry } from './telemetry';
import { foldWindow, WINDOW_HANDLER, type WindowOptions } from './windows';

/** Options of {@link microBatch}. */
// `NoInfer` makes `decode` the only source of `T`, so stages and jobs are typed from it.
export interface MicroBatchOptions<T, S, State> {
  /** Turns each record's bytes into `T`: `json(schema)`, `utf8()`, `bytes()` or your own function. */
  readonly decode: Decoder<T>;
  /** Named functions of the batch's records; each runs at most once per batch, only if a job reads it. */
  readonly stages?: S & Stages<NoInfer<T>>;
  /** Named jobs, run concurrently; each destructures the stages it needs. */
  readonly jobs?: { readonly [name: string]: Job<NoInfer<T>, NoInfer<S>> };
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
   * Keyed state of stateful jobs (`aggregate`, `dedupe`).
   * @default - the table DRIVERLESS_STATE_TABLE names (`state: true`), or memory for `memory:`
   */
  readonly state?: StateTable;
  /**
   * Time kept free before Lambda's timeout; jobs still running then count as failed, so the
   * invocation can still answer with an exact partial response.
   * @default 1000
   */
  readonly deadlineMarginMs?: number;
}

// middy publishes ES modules only: `resolution-mode` lets a CommonJS consumer's TypeScript
// (NodeNext) resolve its types; the published runtime has middy bundled and never requires it.
// biome-ignore format: biome prints this import type with a trailing comma its parser rejects
type Middyfied<Event, Result> = import('@middy/core', { with: { 'resolution-mode': 'import' } }).MiddyfiedHandler<Event, Result, Error, Context>;

/**
 * The Lambda handler `microBatch` returns: a middy handler, so any middy middleware can `.use()` it
 * (middlewares see the stream's `KinesisEvent`). It answers three kinds of event, each typed:
 *
 * - a `KinesisEvent` (the event source mapping): the partial-batch response;
 * - a `TickEvent` (the pipeline's schedule, or the end of `driverless run`'s input): it advances
 *   the stateful jobs' watermarks and emits what is due; answers `{ batchItemFailures: [] }`;
 * - a `BackfillEvent` (`driverless backfill`): the slice's `BackfillResult`.
 */
export interface MicroBatchHandler<State = never>
  extends Middyfied<KinesisEvent, BatchResponse<State>> {
  (event: KinesisEvent, context: Context): Promise<BatchResponse<State>>;
  (event: TickEvent, context: Context): Promise<BatchResponse<State>>;
  (event: BackfillEvent, context: Context): Promise<BackfillResult>;
}

/**
 * The id of a batch: the same records from the same shard of the same stream always get the same
 * id, and no other batch gets it. In a tumbling window the window is part of it, so two windows'
 * final invocations, which carry no records, get different ids too.
 */
export function batchIdOf(batch: DecodedBatch<unknown>): string {
  const window = batch.window === undefined ? '' : `|${batch.window}`;
  // The one-shot hash: a Hash object per batch cost several times the digest of ~150 characters.
  return hash(
    'sha256',
    `${batch.streamArn}|${batch.shardId}|${batch.firstSequenceNumber}|${batch.lastSequenceNumber}${window}`,
    'hex',
  ).slice(0, 32);
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
  const service =
    process.env.POWERTOOLS_SERVICE_NAME ?? process.env[ENVIRONMENT.pipeline] ?? 'driverless';
  const telemetry = new Telemetry(service);
  const tracer = batchTracerFromEnvironment(service);
  // The handler is made while the module initializes: what came before is the init phase.
  const billing = new InvocationBilling(performance.now());
  const marginMs = options.deadlineMarginMs ?? 1000;
  const cursors = options.cursors ?? cursorsFromEnvironment(process.env, functionName);
  const stateful = bindStateful(jobs, selected, {
    source,
    functionName,
    deadLetters,
    logger: telemetry.logger,
    table: () => options.state ?? stateTableFromEnvironment(process.env),
  });

  /**
   * One batch, stream or backfill: `batchCursors` replaces the function's cursors (a backfill keeps
   * its own, per slice); `null` runs without any.
   */
  async function processBatch(
    event: KinesisEvent,
    context: Context,
    batchCursors?: CursorStore | null,
  ): Promise<{ response: BatchResponse<State>; report: BatchReport }> {
    const span = tracer.startBatch();
    try {
      return await traced(event, context, span, batchCursors);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async function traced(
    event: KinesisEvent,
    context: Context,
    span: TraceSpan,
    batchCursors: CursorStore | null | undefined,
  ): Promise<{ response: BatchResponse<State>; report: BatchReport }> {
    const started = performance.now();
    const timings = new BatchTimings();
    const decodeSpan = span.child('decode');
    const batch = decodeEvent(event, options.decode);
    timings.decodeMs = performance.now() - started;
    decodeSpan.end();
    const batchId = batchIdOf(batch);
    span.annotate('source', source);
    span.annotate('shard', batch.shardId);
    span.annotate('batchId', batchId);
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline =
      remaining === undefined ? Number.POSITIVE_INFINITY : Date.now() + remaining - marginMs;

    const outcomes =
      batch.records.length === 0
        ? []
        : await runJobs({
            jobs: stateful.jobsFor(event),
            selected,
            stages,
            records: batch.records,
            cursors:
              batchCursors === null
                ? undefined
                : (batchCursors ?? (isReplay(context) ? undefined : cursors)),
            context: {
              batchId,
              shardId: batch.shardId,
              streamArn: batch.streamArn,
              deadline,
              lambda: context,
            },
            logger: telemetry.logger,
            span,
            timings,
          });
    // One position per job: a job may fail more records than a spread could take as arguments.
    const failures: RecordPosition[] = [];
    for (const outcome of outcomes) {
      const first = lowestPosition(outcome.failed);
      if (first) failures.push(first);
    }
    const jobsLowest = lowestPosition(failures);

    // Only records Lambda will not redeliver are dead-lettered: those before the first failure.
    // The rest come back in the retry (a KPL aggregate whole, hence the sequence number alone)
    // and are dead-lettered by the attempt that gets past them, so a retried batch never writes a
    // record's letter twice. This waits for the jobs, a cost paid only by batches with a bad record.
    const letters = stampLetters(batch.rejected, jobsLowest, batchId);
    const undelivered =
      letters.length === 0 ? [] : await deliverDeadLettersTraced(letters, deadline, batchId, span);
    const firstUndelivered = lowestPosition(undelivered);
    if (firstUndelivered) failures.push(firstUndelivered);
    const lowest = lowestPosition(failures);
    const response: BatchResponse<State> = {
      batchItemFailures: lowest ? [{ itemIdentifier: lowest.sequenceNumber }] : [],
    };
    if (event.window !== undefined) {
      response.state = await foldWindow(
        options.window,
        event,
        batch,
        lowest,
        batchId,
        context,
        deadline,
      );
    }

    const lastArrival = batch.lastArrivalSeconds;
    const durationMs = performance.now() - started;
    const cost = billing.cost(
      memoryMbOf(context),
      durationMs,
      timings,
      new Map(outcomes.map((outcome) => [outcome.job, outcome.durationMs])),
    );
    span.annotate('records', batch.records.length + batch.rejected.length);
    span.annotate('failedJobs', outcomes.filter((o) => o.failed.length > 0).length);
    const report: BatchReport = {
      source,
      shardId: batch.shardId,
      batchId,
      records: batch.records.length + batch.rejected.length,
      deadLetters: letters.length,
      undeliveredDeadLetters: undelivered.length,
      jobs: Object.fromEntries(
        outcomes.map(({ job, failed, ...rest }) => [
          job,
          { ...rest, failed: failed.length, gbSeconds: cost?.jobs[job] },
        ]),
      ),
      iteratorAgeMs: lastArrival === undefined ? undefined : Date.now() - lastArrival * 1000,
      failedFrom: lowest?.sequenceNumber,
      durationMs,
      decodeMs: timings.decodeMs,
      stages: stageReport(timings, cost),
      gbSeconds: cost?.gbSeconds,
    };
    telemetry.report(report);
    return { response, report };
  }

  async function handle(
    event: KinesisEvent | TickEvent | BackfillEvent,
    context: Context,
  ): Promise<BatchResponse<State> | BackfillResult> {
    if (isBackfillEvent(event)) {
      return runBackfill(event, context, {
        cursors,
        marginMs,
        process: (batch, batchCursors) => processBatch(batch, context, batchCursors),
      });
    }
    // A tick (the pipeline's schedule, or the end of `driverless run`'s input) has no records.
    if (isTick(event)) return stateful.tick(event, context);
    return (await processBatch(event, context)).response;
  }

  async function deliverDeadLettersTraced(
    letters: DeadLetter[],
    deadline: number,
    batchId: string,
    span: TraceSpan,
  ): Promise<readonly DeadLetter[]> {
    const deliverySpan = span.child('dead letters');
    const undelivered = await deliverDeadLetters(deadLetters, letters, deadline, telemetry.logger, {
      batchId,
    });
    deliverySpan.annotate('letters', letters.length);
    deliverySpan.annotate('undelivered', undelivered.length);
    deliverySpan.end();
    return undelivered;
  }

  /** The letters of the rejected records before `before` (all without it), stamped for delivery. */
  function stampLetters(
    rejected: readonly RejectedRecord[],
    before: RecordPosition | undefined,
    batchId: string,
  ): DeadLetter[] {
    const letters: DeadLetter[] = [];
    if (rejected.length === 0) return letters;
    const deadLetteredAt = new Date().toISOString();
    for (const record of rejected) {
      if (before && compareSequenceNumbers(record.sequenceNumber, before.sequenceNumber) >= 0) {
        break;
      }
      letters.push({
        ...record,
        letterId: letterIdOf(functionName ?? source, record),
        source,
        ...(functionName === undefined ? {} : { functionName }),
        batchId,
        deadLetteredAt,
      });
    }
    return letters;
  }

  const handler = middy(handle) as unknown as MicroBatchHandler<State>;
  if (options.window) Object.defineProperty(handler, WINDOW_HANDLER, { value: true });
  return handler;
}

function stageReport(
  timings: BatchTimings,
  cost: { readonly stages: Readonly<Record<string, number>> } | undefined,
): Record<string, StageReport> | undefined {
  if (timings.stageMs.size === 0) return undefined;
  const stages: Record<string, StageReport> = {};
  for (const [stage, durationMs] of timings.stageMs) {
    stages[stage] = { durationMs, gbSeconds: cost?.stages[stage] };
  }
  return stages;
}
