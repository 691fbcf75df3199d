/**
 * Names the constructs share with the runtime (`functions/runtime/environment.ts`).
 *
 * `lib/` never imports `functions/` (the runtime is bundled into Lambda, the constructs run at
 * synth), so the names are repeated here; `test/cdk/environment-contract.test.ts` keeps both equal.
 */
export const ENVIRONMENT_NAMES = {
  pipeline: 'DRIVERLESS_PIPELINE',
  source: 'DRIVERLESS_SOURCE',
  jobs: 'DRIVERLESS_JOBS',
  deadLetterQueueUrl: 'DRIVERLESS_DEAD_LETTER_QUEUE_URL',
  deadLetterBucket: 'DRIVERLESS_DEAD_LETTER_BUCKET',
  checkpointTable: 'DRIVERLESS_CHECKPOINT_TABLE',
  tracing: 'DRIVERLESS_TRACING',
  stateTable: 'DRIVERLESS_STATE_TABLE',
  backfillConcurrency: 'DRIVERLESS_BACKFILL_CONCURRENCY',
} as const;

/** CloudWatch namespace of the runtime's metrics. */
export const METRICS_NAMESPACE = 'Driverless';

/**
 * Metric names the runtime emits: job metrics carry `service, Source, Job`; per-source figures
 * `service, Source, FunctionName` ({@link SOURCE_METRIC_DIMENSIONS}).
 */
export const METRIC_NAMES = {
  jobRecords: 'JobRecords',
  jobFailedRecords: 'JobFailedRecords',
  jobDuration: 'JobDuration',
  batchRecords: 'BatchRecords',
  deadLetters: 'DeadLetters',
  batchGbSeconds: 'BatchGBSeconds',
  jobGbSeconds: 'JobGBSeconds',
  stageGbSeconds: 'StageGBSeconds',
} as const;

/**
 * Dimensions of the per-source figures besides `service` (`SOURCE_METRIC_DIMENSIONS` in
 * `functions/runtime/telemetry.ts`): each function of a source reports its own, so the dashboard
 * and alarms never add up the same records once per function.
 */
export const SOURCE_METRIC_DIMENSIONS = ['Source', 'FunctionName'] as const;

/**
 * Where objects go in the pipeline's buckets, the only keys its roles may write: the runtime's dead
 * letters and overflowing payloads (`DEAD_LETTER_KEY_PREFIX` in `functions/runtime/dead-letter.ts`),
 * and Lambda's on-failure records (`S3_ON_FAILURE_PREFIX` in `functions/kinesis/on-failure-record.ts`).
 */
export const S3_KEY_PREFIXES = {
  deadLetters: 'dead-letters/',
  onFailure: 'aws/lambda/',
} as const;

/** Variables Powertools reads at cold start; the service name becomes the `service` metric dimension. */
export const POWERTOOLS_ENVIRONMENT_NAMES = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;
