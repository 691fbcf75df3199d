import type * as Kinesis from '@aws-sdk/client-kinesis';
import type * as S3 from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { type BatchResponse, classifyBatchResponse, type KinesisEvent } from '../../kinesis/index';
import type { CursorStore } from '../cursors';
import { InvalidEventError } from '../errors';
import type { BatchReport } from '../telemetry';
import {
  type BackfillContinuation,
  type BackfillCounts,
  type BackfillEvent,
  type BackfillResult,
  backfillEventProblem,
  tallyJobBatch,
} from './backfill-event';
import { readArchiveSlice } from './read-archive-slice';
import { readShardSlice } from './read-shard-slice';
import type { SliceBatch } from './slice-batch';

/** What a backfill needs from the handler it runs in. */
export interface BackfillRuntime {
  /** The function's cursors; a backfill keeps its own under the backfill's id. */
  readonly cursors: CursorStore | undefined;
  /** Time kept free before the timeout, as for a stream batch. */
  readonly marginMs: number;
  /** The stream path: one batch through decode, stages, jobs and dead letters. */
  readonly process: (
    event: KinesisEvent,
    cursors: CursorStore | null,
  ) => Promise<{ response: BatchResponse<unknown>; report: BatchReport }>;
  /** @default - clients for the environment's region and endpoints */
  readonly clients?: { readonly kinesis?: Kinesis.KinesisClient; readonly s3?: S3.S3Client };
}

/** Attempts per batch, as a mapping with 2 retries and `driverless run` make. */
export const BACKFILL_MAX_ATTEMPTS = 3;
/** At least this much time is kept for one more batch before the slice hands back a continuation. */
const MIN_BATCH_RESERVE_MS = 1000;
const DEFAULT_BATCH_SIZE = 500;

let kinesisClient: Kinesis.KinesisClient | undefined;
let s3Client: S3.S3Client | undefined;
const hasEndpointOverride = (service: string): boolean =>
  Boolean(process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL);

/**
 * Cursors of one backfill: kept under `backfill:<id>:<shardId>`, apart from the live mapping's,
 * so a backfill over records the mapping has already processed still reaches every job, while a
 * resumed or retried slice never repeats a job that committed a batch.
 */
export function backfillCursors(store: CursorStore, backfillId: string): CursorStore {
  const key = (shardId: string) => `backfill:${backfillId}:${shardId}`;
  return {
    load: (shardId, jobs) => store.load(key(shardId), jobs),
    advance: (shardId, job, from, to, batchId) =>
      store.advance(key(shardId), job, from, to, batchId),
  };
}

function emptyCounts(): BackfillCounts {
  return { batches: 0, invocations: 0, records: 0, deadLettered: 0, failed: 0, jobs: {} };
}

function tally(counts: BackfillCounts, report: BatchReport): void {
  counts.deadLettered += report.deadLetters;
  for (const [job, outcome] of Object.entries(report.jobs))
    tallyJobBatch(counts.jobs, job, outcome);
}

/**
 * Runs a backfill invocation: reads the slice from its continuation, batch by batch, through the
 * same path as a stream batch, and stops while there is still time for one more batch, handing
 * back where it stopped. A batch whose jobs partly fail is retried from its first failure, up to
 * {@link BACKFILL_MAX_ATTEMPTS} attempts in all; records still failing are counted failed and the
 * slice moves on, as a mapping with bounded retries does.
 */
export async function runBackfill(
  event: BackfillEvent,
  context: Context,
  runtime: BackfillRuntime,
): Promise<BackfillResult> {
  const problem = backfillEventProblem(event);
  if (problem) throw new InvalidEventError(`not a backfill event: ${problem}`);
  const { slice } = event;
  const counts = emptyCounts();
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const batchSize = event.batchSize ?? DEFAULT_BATCH_SIZE;
  let slowestBatchMs = 0;
  const outOfTime = (): boolean => {
    const remaining = context?.getRemainingTimeInMillis?.();
    if (remaining === undefined) return false;
    return remaining - runtime.marginMs < Math.max(MIN_BATCH_RESERVE_MS, 2 * slowestBatchMs);
  };
  const cursors =
    event.ignoreCursors === true || runtime.cursors === undefined
      ? null
      : backfillCursors(runtime.cursors, event.backfillId);

  let reader: AsyncGenerator<SliceBatch, { complete: boolean }>;
  if (slice.kind === 'shard') {
    const sdk = require('@aws-sdk/client-kinesis') as typeof Kinesis;
    // HTTP/1.1: the SDK's Kinesis client defaults to HTTP/2 (for SubscribeToShard), which
    // GetRecords does not need and which local Kinesis emulators do not speak.
    // Required indirectly so bundlers leave it out: Lambda's Node.js runtime ships it with the
    // SDK (and a bundled copy would double the size of every function).
    const runtimeRequire: NodeJS.Require = require;
    const { NodeHttpHandler } = runtimeRequire('@smithy/node-http-handler') as {
      NodeHttpHandler: new () => Kinesis.KinesisClientConfig['requestHandler'];
    };
    kinesisClient ??=
      runtime.clients?.kinesis ?? new sdk.KinesisClient({ requestHandler: new NodeHttpHandler() });
    const after = event.continuation as { afterSequenceNumber: string } | undefined;
    reader = readShardSlice(slice, after?.afterSequenceNumber, {
      client: runtime.clients?.kinesis ?? kinesisClient,
      batchSize,
      region,
      outOfTime,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
  } else {
    const sdk = require('@aws-sdk/client-s3') as typeof S3;
    s3Client ??= new sdk.S3Client({ forcePathStyle: hasEndpointOverride('S3') });
    const start = (event.continuation as { keyIndex: number; line: number } | undefined) ?? {
      keyIndex: 0,
      line: 0,
    };
    reader = readArchiveSlice(slice, start, {
      client: runtime.clients?.s3 ?? s3Client,
      batchSize,
      region,
      outOfTime,
    });
  }

  let continuation: BackfillContinuation | undefined = event.continuation;
  for (;;) {
    const next = await reader.next();
    if (next.done) {
      return {
        driverless: 'backfill',
        sliceId: slice.id,
        done: next.value.complete,
        ...(continuation === undefined ? {} : { continuation }),
        counts,
      };
    }
    const started = performance.now();
    await processWithRetries(next.value, cursors, runtime, counts);
    slowestBatchMs = Math.max(slowestBatchMs, performance.now() - started);
    continuation = next.value.continuation;
  }
}

async function processWithRetries(
  batch: SliceBatch,
  cursors: CursorStore | null,
  runtime: BackfillRuntime,
  counts: BackfillCounts,
): Promise<void> {
  counts.batches += 1;
  counts.records += batch.records.length;
  let remaining = batch.records;
  for (let attempt = 1; attempt <= BACKFILL_MAX_ATTEMPTS && remaining.length > 0; attempt++) {
    counts.invocations += 1;
    let payload: BatchResponse<unknown>;
    try {
      const { response, report } = await runtime.process({ Records: remaining }, cursors);
      tally(counts, report);
      payload = response;
    } catch (error) {
      // An infrastructure failure (a table or queue unreachable): the whole batch is retried.
      counts.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      continue;
    }
    const outcome = classifyBatchResponse(
      { payload },
      remaining.map((record) => record.kinesis.sequenceNumber),
      { reportBatchItemFailures: true, tumblingWindow: false },
    );
    if (outcome.kind === 'failure') continue;
    remaining = outcome.kind === 'partial' ? remaining.slice(outcome.retryFrom) : [];
  }
  counts.failed += remaining.length;
}
