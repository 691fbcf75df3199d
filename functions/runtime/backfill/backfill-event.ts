// No imports: the CLI builds these events and reads these results without loading the runtime.

/**
 * A shard's range, read with GetShardIterator/GetRecords. Records arrive in shard order; the
 * range is cut by arrival time (AT_TIMESTAMP), so one shard can be split into several slices.
 */
export interface ShardSlice {
  readonly kind: 'shard';
  /**
   * Unique within the backfill. It is also the batches' `shardId` (what jobs see, and what the
   * slice's cursors are kept under): the real shard id for a whole shard, `<shardId>#<part>` for a
   * part of one, so two parts of a shard never share a per-shard mark or cursor.
   */
  readonly id: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** First arrival time read, epoch milliseconds (inclusive, as AT_TIMESTAMP). */
  readonly fromMs: number;
  /** Arrival time where the slice ends, epoch milliseconds (exclusive). */
  readonly toMs: number;
}

/** A set of archive objects (NDJSON, gzipped or not), read line by line in key order. */
export interface ArchiveSlice {
  readonly kind: 'archive';
  /** Unique within the backfill. */
  readonly id: string;
  readonly bucket: string;
  /** Object keys, read in this order; each object is a shard of its own (its key is the `shardId`). */
  readonly keys: readonly string[];
}

export type BackfillSlice = ShardSlice | ArchiveSlice;

/** Where a slice stopped: the next invocation starts right after it. */
export type BackfillContinuation =
  /** Shard slices: the last sequence number processed. */
  | { readonly afterSequenceNumber: string }
  /** Archive slices: the object (index in `keys`) and the last line of it processed (1-based; 0 for none). */
  | { readonly keyIndex: number; readonly line: number };

/** The invocation `driverless backfill` sends to a source's function. */
export interface BackfillEvent {
  readonly driverless: 'backfill';
  /** Names the backfill: its slices keep their cursors under it, apart from the live mapping's. */
  readonly backfillId: string;
  readonly slice: BackfillSlice;
  readonly continuation?: BackfillContinuation;
  /** Records per batch, 1-10000 (a GetRecords `Limit`, or lines of an archive object). @default 500 */
  readonly batchSize?: number;
  /** Hand every job every record, even behind its cursor (jobs' writes must be idempotent). @default false */
  readonly ignoreCursors?: boolean;
}

/** Per job, what its batches did (as `driverless run` tallies it). */
export interface BackfillJobTally {
  batches: number;
  succeeded: number;
  partial: number;
  failed: number;
  timedOut: number;
  skipped: number;
  records: number;
  failedRecords: number;
}

/** A job's batch as its log line reports it. */
export interface JobBatchOutcome {
  readonly status?: string;
  readonly records?: number;
  readonly failed?: number;
}

const STATUS_FIELD: Readonly<Record<string, keyof BackfillJobTally>> = {
  succeeded: 'succeeded',
  partial: 'partial',
  failed: 'failed',
  'timed-out': 'timedOut',
  skipped: 'skipped',
};

/** Adds one batch of `job` to `jobs` (`driverless run`, a backfill invocation and its orchestrator tally alike). */
export function tallyJobBatch(
  jobs: Record<string, BackfillJobTally>,
  job: string,
  outcome: JobBatchOutcome,
): void {
  const tally = jobs[job] ?? {
    batches: 0,
    succeeded: 0,
    partial: 0,
    failed: 0,
    timedOut: 0,
    skipped: 0,
    records: 0,
    failedRecords: 0,
  };
  jobs[job] = tally;
  tally.batches += 1;
  const field = STATUS_FIELD[outcome.status ?? ''];
  if (field) tally[field] += 1;
  tally.records += outcome.records ?? 0;
  tally.failedRecords += outcome.failed ?? 0;
}

/** What one backfill invocation did. */
export interface BackfillCounts {
  batches: number;
  /** Batch attempts (a batch partly failing is retried from its first failure). */
  invocations: number;
  records: number;
  deadLettered: number;
  failed: number;
  jobs: Record<string, BackfillJobTally>;
  /** First line of the last error a batch threw, if one did. */
  lastError?: string;
}

/** The answer to a {@link BackfillEvent}. */
export interface BackfillResult {
  readonly driverless: 'backfill';
  readonly sliceId: string;
  /** True when the slice is read to its end; otherwise invoke again with `continuation`. */
  readonly done: boolean;
  /** Where to go on; absent when nothing was processed and the slice is not done. */
  readonly continuation?: BackfillContinuation;
  readonly counts: BackfillCounts;
}

export const MAX_BACKFILL_BATCH_SIZE = 10_000;

/** Whether an invocation's event is a backfill rather than a Kinesis batch. */
export function isBackfillEvent(event: unknown): event is BackfillEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { driverless?: unknown }).driverless === 'backfill'
  );
}

/** What is wrong with a backfill event, or undefined when nothing is. */
export function backfillEventProblem(event: BackfillEvent): string | undefined {
  type Loose = Partial<
    Record<'id' | 'kind' | 'streamArn' | 'shardId' | 'fromMs' | 'toMs' | 'bucket' | 'keys', unknown>
  >;
  const slice = event.slice as unknown as Loose | undefined;
  if (typeof event.backfillId !== 'string' || event.backfillId === '')
    return 'backfillId is not a non-empty string';
  if (typeof slice !== 'object' || slice === null) return 'slice is not an object';
  if (typeof slice.id !== 'string' || slice.id === '') return 'slice.id is not a non-empty string';
  const size = event.batchSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 1 || size > MAX_BACKFILL_BATCH_SIZE))
    return `batchSize must be an integer between 1 and ${MAX_BACKFILL_BATCH_SIZE} (given ${size})`;
  if (slice.kind === 'shard') {
    if (typeof slice.streamArn !== 'string' || typeof slice.shardId !== 'string')
      return 'slice.streamArn and slice.shardId must be strings';
    if (
      typeof slice.fromMs !== 'number' ||
      typeof slice.toMs !== 'number' ||
      !Number.isFinite(slice.fromMs) ||
      !Number.isFinite(slice.toMs)
    )
      return 'slice.fromMs and slice.toMs must be epoch milliseconds';
    if (slice.fromMs >= slice.toMs)
      return `slice.fromMs must be before slice.toMs (given ${slice.fromMs} and ${slice.toMs})`;
    const c = event.continuation as { afterSequenceNumber?: unknown } | undefined;
    if (c !== undefined && !/^\d+$/.test(String(c.afterSequenceNumber)))
      return 'continuation.afterSequenceNumber is not a decimal string';
    return undefined;
  }
  if (slice.kind === 'archive') {
    if (typeof slice.bucket !== 'string' || slice.bucket === '')
      return 'slice.bucket is not a non-empty string';
    if (!Array.isArray(slice.keys) || slice.keys.some((key: unknown) => typeof key !== 'string'))
      return 'slice.keys is not an array of strings';
    const c = event.continuation as { keyIndex?: unknown; line?: unknown } | undefined;
    if (
      c !== undefined &&
      !(
        Number.isInteger(c.keyIndex) &&
        Number.isInteger(c.line) &&
        (c.keyIndex as number) >= 0 &&
        (c.line as number) >= 0
      )
    )
      return 'continuation must be { keyIndex, line } of non-negative integers';
    return undefined;
  }
  return `slice.kind must be "shard" or "archive" (given ${JSON.stringify(slice.kind)})`;
}
