import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import {
  type BatchOutcome,
  type BatchResponseOptions,
  classifyBatchResponse,
} from '../../functions/kinesis/index';
import {
  type BackfillJobTally,
  tallyJobBatch,
} from '../../functions/runtime/backfill/backfill-event';
import { predatesTicks, type TickEvent } from './final-tick';
import { type LoadedHandler, runContext } from './load-handler';
import { type ShardWindow, windowEventOf } from './shard-window';

/** Attempts per batch, as an event source mapping with `retryAttempts: 2` would make. */
export const MAX_ATTEMPTS = 3;

/** What each job did over the run, from the runtime's `batch` log lines (as a backfill tallies it). */
export type JobTally = BackfillJobTally;

/** The summary `driverless run` prints (and prints as JSON with `--json`). */
export interface RunSummary {
  batches: number;
  invocations: number;
  records: number;
  processed: number;
  deadLettered: number;
  failed: number;
  /** Tumbling windows whose final invocation succeeded (`onClose` ran), with `--tumbling-window`. */
  windowsClosed: number;
  /** Tumbling windows whose final invocation still failed after {@link MAX_ATTEMPTS}. */
  windowsFailed: number;
  jobs: Record<string, JobTally>;
  durationMs: number;
  recordsPerSecond: number;
  deadLetterFile?: string;
  /**
   * Set when the final tick at the end of the input still failed after {@link MAX_ATTEMPTS}: the
   * stateful jobs' open windows were not all emitted.
   */
  finalTickFailed?: true;
  /** First line of the last error a handler threw, if any invocation threw. */
  lastError?: string;
  /** Why jobs and invocations failed: each distinct error once, with how often it happened. */
  errors: RunError[];
}

/** One distinct failure of a run: the same error of the same job, counted. */
export interface RunError {
  /** The job that failed, or `undefined` when the handler itself threw (nothing ran). */
  readonly job?: string;
  /** `Name: message` as the runtime logged it, or a description of records a job returned failed. */
  readonly error: string;
  /** Invocations in which it happened (a batch's retries count too). */
  invocations: number;
  /** Records of those invocations the error failed. */
  records: number;
}

interface BatchLine {
  readonly message?: string;
  readonly batch?: {
    readonly deadLetters?: number;
    readonly jobs?: Record<
      string,
      { status?: string; records?: number; failed?: number; error?: string }
    >;
  };
}

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
    windowsClosed: 0,
    windowsFailed: 0,
    jobs: {},
    durationMs: 0,
    recordsPerSecond: 0,
    errors: [],
  };
  readonly #errors = new Map<string, RunError>();
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
      tallyJobBatch(this.summary.jobs, job, outcome);
      if (outcome.error !== undefined) {
        this.#countError(job, outcome.error, outcome.failed ?? outcome.records ?? 0);
      } else if (outcome.status === 'partial' || (outcome.failed ?? 0) > 0) {
        // A job that returns records as failed gives no error: say what it did instead.
        this.#countError(job, 'the job returned records as failed', outcome.failed ?? 0);
      }
    }
  }

  #countError(job: string | undefined, error: string, records: number): void {
    const key = `${job ?? ''}\u0000${error}`;
    const seen = this.#errors.get(key);
    if (seen) {
      seen.invocations += 1;
      seen.records += records;
      return;
    }
    const entry: RunError = {
      ...(job === undefined ? {} : { job }),
      error,
      invocations: 1,
      records,
    };
    this.#errors.set(key, entry);
    this.summary.errors.push(entry);
  }

  /**
   * Runs one batch to success or to its last attempt; returns how many records failed. In a
   * tumbling `window`, every attempt carries the window's current state and the state each
   * response returns becomes the window's (a partial response's too: the retry continues from it,
   * docs/event-source-mapping.md#tumbling-windows). A saved event that has window keys of its own
   * is replayed as that one invocation: its response must carry state, and a retry carries the state it returned.
   */
  async run(event: KinesisEvent, window?: ShardWindow): Promise<number> {
    this.summary.batches += 1;
    this.summary.records += event.Records.length;
    let saved = event;
    let remaining: readonly KinesisEventRecord[] = event.Records;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && remaining.length > 0; attempt++) {
      const outcome = window
        ? await this.#invoke(
            windowEventOf(remaining, window, { final: false, terminatedEarly: false }),
            { reportBatchItemFailures: true, tumblingWindow: true },
          )
        : await this.#invoke(
            { ...saved, Records: remaining },
            { reportBatchItemFailures: true, tumblingWindow: saved.window !== undefined },
          );
      if (outcome.kind === 'failure') continue;
      if (outcome.state && window) window.state = outcome.state;
      else if (outcome.state) saved = { ...saved, state: outcome.state };
      remaining = outcome.kind === 'partial' ? remaining.slice(outcome.retryFrom) : [];
    }
    this.summary.failed += remaining.length;
    return remaining.length;
  }

  /**
   * The window's final invocation: no records, the final state, `isFinalInvokeForWindow` (the
   * runtime runs `onClose` on it), as the embedded mapping sends it. Lambda retries it until it
   * succeeds (docs/event-source-mapping.md#tumbling-windows); a run gives up after {@link
   * MAX_ATTEMPTS} and counts the window failed.
   */
  async closeWindow(
    window: ShardWindow,
    how: { readonly terminatedEarly: boolean },
  ): Promise<boolean> {
    const event = windowEventOf([], window, { final: true, ...how });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Only the state matters in the answer to a final invocation, as in the mapping.
      const outcome = await this.#invoke(event, {
        reportBatchItemFailures: false,
        tumblingWindow: true,
      });
      if (outcome.kind !== 'failure') {
        this.summary.windowsClosed += 1;
        return true;
      }
    }
    this.summary.windowsFailed += 1;
    return false;
  }

  /**
   * The end of the input (docs/state.md): one tick with `final`, after the last record, so the
   * stateful jobs emit every open window. It is not a batch: batches, records and invocations do
   * not count it, so a run of a handler without stateful jobs reads as before. A handler that
   * rejects it as not a Kinesis event predates ticks and has nothing to emit; any other error is
   * retried like a window's final invocation, then reported in `finalTickFailed`.
   * @returns whether the handler took the tick
   */
  async finalTick(event: TickEvent): Promise<boolean> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const context = runContext(this.functionName, this.summary.invocations + attempt, {
        replay: this.options.ignoreCursors === true,
      });
      try {
        // A tick has no Records: the loaded handler's type names only what every handler takes.
        await this.handler(event as unknown as KinesisEvent, context);
        return true;
      } catch (error) {
        if (predatesTicks(error)) return false;
        this.summary.lastError =
          error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
    this.summary.finalTickFailed = true;
    return false;
  }

  /**
   * One invocation, its response read as the mapping reads it
   * (docs/event-source-mapping.md#partial-batch-response): Lambda
   * retries from the lowest sequence number named, a thrown error or an unknown identifier fails
   * the whole batch, and a window invocation without `state` fails
   * (docs/event-source-mapping.md#tumbling-windows).
   */
  async #invoke(event: KinesisEvent, read: BatchResponseOptions): Promise<BatchOutcome> {
    this.summary.invocations += 1;
    const context = runContext(this.functionName, this.summary.invocations, {
      replay: this.options.ignoreCursors === true,
    });
    let payload: unknown;
    try {
      payload = await this.handler(event, context);
    } catch (error) {
      this.summary.lastError =
        error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.#countError(undefined, this.summary.lastError, event.Records.length);
      return { kind: 'failure', functionError: 'Unhandled', reason: 'function error' };
    }
    return classifyBatchResponse(
      { payload },
      event.Records.map((record) => record.kinesis.sequenceNumber),
      read,
    );
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
