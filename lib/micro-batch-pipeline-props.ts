import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { ArchiveProps } from './archive-props';
import type { SourceProps } from './source-props';

/**
 * Where failures are kept: an encrypted, SSL-only SQS queue, or an encrypted, SSL-only, private S3
 * bucket; either keeps them for the pipeline's `failureRetention` and is retained when it leaves
 * the stack.
 */
export type FailureDestinationKind = 'queue' | 'bucket';

/** What the concurrency guardrail does when the pipeline can exceed its budget. */
export type ConcurrencyBudgetMode = 'fail' | 'warn';

/** Props of {@link MicroBatchPipeline}. */
export interface MicroBatchPipelineProps {
  /**
   * The sources, by name. The name (letters and digits, starting with a letter) becomes
   * `DRIVERLESS_SOURCE`, the `Source` metric dimension and part of construct IDs.
   *
   * Range: at least one source.
   */
  readonly sources: Readonly<Record<string, SourceProps>>;
  /**
   * Pipeline name: `DRIVERLESS_PIPELINE`, `POWERTOOLS_SERVICE_NAME` and the `service` metric dimension.
   *
   * Range: 1 to 64 letters, digits, `-` and `_`.
   * @default - the construct ID
   */
  readonly pipelineName?: string;
  /**
   * How CodeDeploy shifts each function's `live` alias to a new version. Use
   * `LambdaDeploymentConfig.ALL_AT_ONCE` for development stages.
   *
   * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda
   * @default codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
  /**
   * Account concurrency this pipeline may use: the sum over all its functions of
   * shards × parallelizationFactor (or reserved concurrency) must not exceed it.
   *
   * Range: an integer of at least 1.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
   * @default 1000
   */
  readonly concurrencyBudget?: number;
  /**
   * Whether exceeding `concurrencyBudget` fails synthesis or only warns.
   *
   * @default 'fail'
   */
  readonly concurrencyBudgetMode?: ConcurrencyBudgetMode;
  /**
   * Iterator age (Maximum, 1 minute) above which a function's alarm fires. The alarm is for
   * people, not a deployment gate: a lag that existed before a deploy must not roll back the
   * release (only errors of the new version do).
   *
   * Range: at least 1 second.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#performance-metrics
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /**
   * Notified when any alarm of the pipeline goes to ALARM and when it is back to OK: iterator
   * age, errors, the new version's errors (a rollback), throttles, on-failure records, dropped
   * records and dead letters, of every function. For example
   * `[new cloudwatchActions.SnsAction(topic)]` from `aws-cdk-lib/aws-cloudwatch-actions`.
   *
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html
   * @default - no actions: the alarms only show in the console and on the dashboard
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /**
   * Where each mapping sends records it gives up on. A queue receives metadata only (records
   * must be re-read from the stream before they expire); a bucket also receives the payload.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
   * @default 'queue'
   */
  readonly onFailureDestination?: FailureDestinationKind;
  /**
   * Where the runtime writes records it cannot decode (dead letters), one per source. With a
   * queue, each source also gets a bucket for the payloads of letters too large for one SQS
   * message (the letter names its object), so no record is too large to dead-letter.
   *
   * @default 'queue'
   */
  readonly deadLetterDestination?: FailureDestinationKind;
  /**
   * Time left to redrive a record after the mapping gives up on it, when `onFailureDestination`
   * is 'queue': the queue receives only a pointer, so each source's stream retention must be at
   * least its `maxRecordAge` plus this window. Synth fails for a stream the pipeline creates and
   * warns for one it is given. A bucket destination keeps the records themselves, so no window
   * applies.
   *
   * Range: any duration; 0 accepts pointers to records about to expire.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
   * @default Duration.days(1)
   */
  readonly redriveWindow?: Duration;
  /**
   * How long the pipeline keeps what failed: messages of its dead-letter and on-failure queues,
   * and objects of its dead-letter, dead-letter payload and on-failure buckets (an S3 lifecycle
   * rule). Failed records may hold personal data: they go once nobody can redrive them. The queues
   * and buckets are retained when they leave the stack, like log groups, so a `cdk destroy` does
   * not delete the only copy of failed records; this retention still ends their stay.
   *
   * Range: 1 to 14 days, in whole days (SQS keeps a message at most 14 days; S3 expires objects by
   * the day, at the first midnight UTC after the time is up).
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
   * @default Duration.days(14)
   */
  readonly failureRetention?: Duration;
  /**
   * Retention of every function's log group.
   *
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Environment variables of every function (a source's `environment` wins on conflicts).
   * Names starting with `DRIVERLESS_` are reserved.
   *
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Create a DynamoDB table of per-job cursors (partition key `id`, on-demand, point-in-time
   * recovery, encrypted), grant every function read/write and set `DRIVERLESS_CHECKPOINT_TABLE`.
   * Needs `parallelizationFactor` 1 on every source: with several batches of one shard in
   * flight, a per-shard cursor would skip records.
   *
   * @default false
   */
  readonly checkpoints?: boolean;
  /**
   * Archive every source's records to S3 through Kinesis Data Firehose, so history outlives the
   * streams' retention: one encrypted bucket (kept when the stack goes, objects expired by a
   * lifecycle rule), and per source a delivery stream reading the source's stream and writing
   * gzipped objects with one record per line under `records/<source>/YYYY/MM/DD/HH/`.
   * `driverless backfill --archive s3://<bucket>/records/<source>/` reads that layout, and the
   * source's functions may read it. `true` takes the defaults of {@link ArchiveProps}.
   *
   * @see https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html
   * @default - no archive
   */
  readonly archive?: boolean | ArchiveProps;
}
