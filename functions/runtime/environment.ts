/**
 * The environment contract between the constructs (`lib/`) and the runtime.
 *
 * `lib/` never imports `functions/`, so it repeats these names as strings; a test
 * (`test/cdk/environment-contract.test.ts`) keeps both sides equal.
 */
export const ENVIRONMENT = {
  /** Pipeline name; also the Powertools `service` dimension. */
  pipeline: 'DRIVERLESS_PIPELINE',
  /** The source (key of `sources`) this function reads. */
  source: 'DRIVERLESS_SOURCE',
  /**
   * Jobs this deployment runs: `a,b` runs only those; `!a` runs every job but `a`.
   * Unset runs every job. Unknown names fail at cold start.
   */
  jobs: 'DRIVERLESS_JOBS',
  /** SQS queue URL that receives decode failures (dead letters). */
  deadLetterQueueUrl: 'DRIVERLESS_DEAD_LETTER_QUEUE_URL',
  /** S3 bucket that receives dead letters (instead of, or as overflow for, the queue). */
  deadLetterBucket: 'DRIVERLESS_DEAD_LETTER_BUCKET',
  /** DynamoDB table of per-job cursors (partition key `id`, string). */
  checkpointTable: 'DRIVERLESS_CHECKPOINT_TABLE',
  /** `true` when the function has active X-Ray tracing: one segment per batch (`tracing: true`). */
  tracing: 'DRIVERLESS_TRACING',
  /**
   * DynamoDB table of the keyed state of stateful jobs (partition key `pk`, sort key `sk`, TTL
   * `expiresAt`), or `memory:<name>` for state kept in the process (batch mode).
   */
  stateTable: 'DRIVERLESS_STATE_TABLE',
  /**
   * What the pipeline's `concurrencyBudget` leaves beside its mappings' concurrency: the most
   * invocations `driverless backfill` may run at once. Read by the CLI, not the runtime.
   */
  backfillConcurrency: 'DRIVERLESS_BACKFILL_CONCURRENCY',
} as const;

/** CloudWatch namespace of the runtime's metrics (Powertools adds the `service` dimension). */
export const METRICS_NAMESPACE = 'Driverless';

/**
 * Metric names the runtime emits, by dimension set.
 * Job metrics carry `[service, Source, Job]`; source metrics carry `[service, Source, FunctionName]`
 * (`SOURCE_METRIC_DIMENSIONS` in `telemetry.ts`).
 */
export const METRICS = {
  jobRecords: 'JobRecords',
  jobFailedRecords: 'JobFailedRecords',
  jobDuration: 'JobDuration',
  batchRecords: 'BatchRecords',
  deadLetters: 'DeadLetters',
  /** Memory × billed duration of each invocation (init included), per source and function. */
  batchGbSeconds: 'BatchGBSeconds',
  /** A job's share of its invocations' GB-seconds, by its measured time. */
  jobGbSeconds: 'JobGBSeconds',
  /** A stage's share of its invocations' GB-seconds (dimensions `service, Source, Stage`). */
  stageGbSeconds: 'StageGBSeconds',
} as const;
