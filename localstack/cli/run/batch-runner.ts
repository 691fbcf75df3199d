import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import { type LoadedHandler, runContext } from './load-handler';

/** Attempts per batch, as an event source mapping with `retryAttempts: 2` would make. */
export const MAX_ATTEMPTS = 3;

/** What each job did over the run, from the runtime's `batch` log lines. */
export interface JobTally {
  batches: number;
  succeeded: number;
  partial: number;
  failed: number;
  timedOut: number;
  skipped: number;
  records: number;
  failedRecords: number;
}

/** The summary `driverless run` prints (and prints as JSON with `--json`). */
export interface RunSummary {
  batches: number;
  invocations: number;
  records: number;
  processed: number;
  deadLettered: number;
  failed: number;
  jobs: Record<string, JobTally>;
  durationMs: number;
  recordsPerSecond: number;
  deadLetterFile?: string;
  /** First line of the last error a handler threw, if any invocation threw. */
  lastError?: string;
}

interface BatchLine {
  readonly message?: string;
  readonly batch?: {
    readonly deadLetters?: number;
    readonly jobs?: Record<string, { status?: string; records?: number; failed?: number }>;
  };
}

const STATUS_FIELD: Record<string, keyof JobTally> = {
  succeeded: 'succeeded',
  partial: 'partial',
  failed: 'failed',
  'timed-out': 'timedOut',
  skipped: 'skipped',
};

/**
 * Invokes a handler batch after batch as Lambda would, retrying a batch from the record its
 * partial response names (or whole, if the handler throws) up to {@link MAX_ATTEMPTS} times.
 * Records still failing after that are counted failed and the run moves on, as a mapping with
 * finite retries does.
 */
export class BatchRunner {
  readonly summary: RunSummary = {
    batches: 0,
    invocations: 0,
    records: 0,
    processed: 0,
    deadLettered: 0,
    failed: 0,
    jobs: {},
    durationMs: 0,
    recordsPerSecond: 0,
  };
  readonly #started = performance.now();

  constructor(
    private readonly handler: LoadedHandler,
    private readonly functionName: string,
    private readonly options: {
      /** Mark every invocation as a replay, so jobs ignore their cursors (`--ignore-cursors`). */
      readonly ignoreCursors?: boolean;
    } = {},
  ) {}

  /** Called with each JSON log line the handler writes; tallies the runtime's `batch` lines. */
  observeLogLine(line: BatchLine): void {
    if (line.message !== 'batch' || !line.batch?.jobs) return;
    for (const [job, outcome] of Object.entries(line.batch.jobs)) {
      const tally = this.summary.jobs[job] ?? {
        batches: 0,
        succeeded: 0,
        partial: 0,
        failed: 0,
        timedOut: 0,
        skipped: 0,
        records: 0,
        failedRecords: 0,
      };
      this.summary.jobs[job] = tally;
      tally.batches += 1;
      const field = STATUS_FIELD[outcome.status ?? ''];
      if (field) tally[field] += 1;
      tally.records += outcome.records ?? 0;
      tally.failedRecords += outcome.failed ?? 0;
    }
  }

  /** Runs one batch to success or to its last attempt; returns how many records failed. */
  async run(event: KinesisEvent): Promise<number> {
    this.summary.batches += 1;
    this.summary.records += event.Records.length;
    let remaining: readonly KinesisEventRecord[] = event.Records;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && remaining.length > 0; attempt++) {
      this.summary.invocations += 1;
      const retryFrom = await this.#invoke({ ...event, Records: remaining });
      remaining = retryFrom === undefined ? [] : remaining.slice(retryFrom);
    }
    this.summary.failed += remaining.length;
    return remaining.length;
  }

  /** Index in `event.Records` to retry from, or undefined when the batch succeeded. */
  async #invoke(event: KinesisEvent): Promise<number | undefined> {
    let response: unknown;
    try {
      response = await this.handler(
        event,
        runContext(this.functionName, this.summary.invocations, {
          replay: this.options.ignoreCursors === true,
        }),
      );
    } catch (error) {
      this.summary.lastError =
        error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return 0;
    }
    const failures = (
      response as { batchItemFailures?: { itemIdentifier?: unknown }[] } | undefined
    )?.batchItemFailures;
    if (!failures || failures.length === 0) return undefined;
    // Lambda retries from the lowest sequence number named (ESM-SEMANTICS §3.4); one that is not
    // in the batch fails the whole batch.
    const named = new Set(failures.map((failure) => String(failure.itemIdentifier)));
    const index = event.Records.findIndex((record) => named.has(record.kinesis.sequenceNumber));
    return index === -1 ? 0 : index;
  }

  /** Closes the tallies: dead letters counted from the sink, processed is what is left. */
  finish(deadLettered: number, deadLetterFile: string): RunSummary {
    const durationMs = performance.now() - this.#started;
    this.summary.deadLettered = deadLettered;
    this.summary.processed = Math.max(0, this.summary.records - deadLettered - this.summary.failed);
    this.summary.durationMs = Math.round(durationMs);
    this.summary.recordsPerSecond = Math.round(
      this.summary.records / Math.max(durationMs / 1000, 0.001),
    );
    this.summary.deadLetterFile = deadLetterFile;
    return this.summary;
  }
}
