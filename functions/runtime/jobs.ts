import type { Context } from 'aws-lambda';
import { ENVIRONMENT } from './environment';
import { ConfigurationError, JobTimeoutError } from './errors';
import type { JobInput } from './stages';
import { DecodedRecord, type StreamRecord } from './stream-record';

/** What a job may return: the records it could not handle (the rest succeeded). */
export interface JobResult<T> {
  readonly failed?: readonly StreamRecord<T>[];
}

/** Per-job context. */
export interface JobContext {
  /** The job's name. */
  readonly job: string;
  /**
   * Deterministic id of the batch (stream, shard, first and last sequence number, and the window in
   * a tumbling window): a retried batch gets the same id and no other batch does, so writes keyed
   * by it are idempotent (Spark's `foreachBatch(batchId)`).
   */
  readonly batchId: string;
  readonly shardId: string;
  readonly streamArn: string;
  /** Aborted when the job reaches its deadline; pass it to SDK calls (`abortSignal`). */
  readonly signal: AbortSignal;
  /** Epoch milliseconds after which the job counts as failed. */
  readonly deadline: number;
  /** The Lambda context of the invocation. */
  readonly lambda: Context;
}

// `void` is deliberate: a job written `async () => { ... }` returns Promise<void>.
// biome-ignore lint/suspicious/noConfusingVoidType: jobs that return nothing must type-check
type NothingOr<R> = R | undefined | void;

/** A job: reads the records and the stages it names, writes somewhere, reports failed records. */
export type Job<T, S> = (
  input: JobInput<T, S>,
  context: JobContext,
) => Promise<NothingOr<JobResult<T>>> | NothingOr<JobResult<T>>;

/** `skipped`: every record of the batch is behind the job's cursor (it committed them before). */
export type JobStatus = 'succeeded' | 'partial' | 'failed' | 'timed-out' | 'skipped';

export interface JobOutcome<T> {
  readonly job: string;
  readonly status: JobStatus;
  readonly records: number;
  readonly failed: readonly StreamRecord<T>[];
  readonly durationMs: number;
  readonly error?: string;
}

/** The outcome of a job with nothing to do: its cursor is past every record of the batch. */
export function skipped<T>(job: string): JobOutcome<T> {
  return { job, status: 'skipped', records: 0, failed: [], durationMs: 0 };
}

/**
 * The outcome of a job the runtime could not run or account for (an error outside the job, such
 * as an unreadable cursor): every record it may have been given fails, so none is acknowledged.
 */
export function failedOutside<T>(
  job: string,
  records: readonly StreamRecord<T>[],
  error: unknown,
): JobOutcome<T> {
  return {
    job,
    status: 'failed',
    records: records.length,
    failed: records,
    durationMs: 0,
    error: describeError(error),
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * Why `failed` is not a list of distinct records among `given`, or `undefined` when it is. Only
 * the runtime's own record objects count (identity, not equal fields): anything else could name a
 * position outside the batch, which Lambda answers by failing the whole batch. O(1) per entry.
 */
function checkFailed(
  failed: readonly unknown[],
  given: readonly StreamRecord<unknown>[],
): string | undefined {
  const offset = DecodedRecord.indexOf(given[0]);
  let seen: Uint8Array | undefined;
  for (let i = 0; i < failed.length; i++) {
    const entry = failed[i];
    const index = DecodedRecord.indexOf(entry);
    const at = index - offset;
    if (index < 0 || offset < 0 || given[at] !== entry) {
      return `entry ${i} (${describe(entry)}) is not one of its records`;
    }
    seen ??= new Uint8Array(given.length);
    if (seen[at] === 1) return `entry ${i} names a record an earlier entry names`;
    seen[at] = 1;
  }
  return undefined;
}

/**
 * The jobs this deployment runs, from `DRIVERLESS_JOBS`: `a,b` keeps those, `!a,!b` keeps all
 * but those, unset keeps all. Any unknown name fails at cold start with the list of known jobs.
 */
export function selectJobs(known: readonly string[], spec: string | undefined): string[] {
  if (spec === undefined || spec.trim() === '') return [...known];
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const excluded = entries.filter((entry) => entry.startsWith('!')).map((entry) => entry.slice(1));
  const included = entries.filter((entry) => !entry.startsWith('!'));
  const where = `${ENVIRONMENT.jobs}="${spec}"`;
  if (excluded.length > 0 && included.length > 0) {
    throw new ConfigurationError(`${where} mixes job names and !exclusions; use one form`);
  }
  const unknown = [...included, ...excluded].filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    // A handler without jobs is a window fold (`checkOptions` requires one or the other).
    const knownJobs =
      known.length === 0
        ? 'this handler has no jobs (it only folds a tumbling window)'
        : `known jobs: ${known.join(', ')}`;
    throw new ConfigurationError(
      `${where} names unknown job${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; ${knownJobs}`,
    );
  }
  const selected =
    included.length > 0 ? included : known.filter((name) => !excluded.includes(name));
  if (selected.length === 0) throw new ConfigurationError(`${where} leaves no job to run`);
  return selected;
}

/**
 * Runs one job against its deadline. Never rejects: a throw fails every record the job was given,
 * `{ failed }` fails those, and passing the deadline fails all (the job's signal is aborted). A
 * `{ failed }` that is not a list of the job's own records fails all of them too: the job's bug
 * must neither acknowledge records it did not handle nor name one outside the batch.
 */
export async function runJob<T, S>(
  job: Job<T, S>,
  input: JobInput<T, S>,
  context: Omit<JobContext, 'signal'>,
): Promise<JobOutcome<T>> {
  const started = performance.now();
  const records = input.records;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const outcome = (
    status: JobStatus,
    failed: readonly StreamRecord<T>[],
    error?: string,
  ): JobOutcome<T> => ({
    job: context.job,
    status,
    records: records.length,
    failed,
    durationMs: performance.now() - started,
    ...(error === undefined ? {} : { error }),
  });
  try {
    const deadlineReached = new Promise<never>((_, reject) => {
      const remaining = context.deadline - Date.now();
      if (!Number.isFinite(remaining)) return;
      timer = setTimeout(
        () => {
          const error = new JobTimeoutError(`job "${context.job}" passed its deadline`);
          controller.abort(error);
          reject(error);
        },
        Math.max(0, remaining),
      );
    });
    const result = await Promise.race([
      Promise.resolve().then(() => job(input, { ...context, signal: controller.signal })),
      deadlineReached,
    ]);
    const failed = result?.failed;
    if (failed === undefined || (Array.isArray(failed) && failed.length === 0)) {
      return outcome('succeeded', []);
    }
    if (!Array.isArray(failed)) {
      return outcome(
        'failed',
        records,
        `job "${context.job}" returned { failed } that is not an array`,
      );
    }
    const problem = checkFailed(failed, records);
    if (problem !== undefined) {
      return outcome(
        'failed',
        records,
        `job "${context.job}" returned { failed } whose ${problem}`,
      );
    }
    return outcome('partial', failed);
  } catch (error) {
    return outcome(
      error instanceof JobTimeoutError ? 'timed-out' : 'failed',
      records,
      describeError(error),
    );
  } finally {
    clearTimeout(timer);
  }
}
