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

/**
 * What Lambda charges, for the dashboard's cost widgets. Prices differ by region and
 * architecture; the functions run on arm64.
 *
 * @see https://aws.amazon.com/lambda/pricing/
 */
export interface LambdaPricing {
  /**
   * US dollars per GB-second of arm64 compute.
   *
   * Range: greater than 0.
   * @default 0.0000133334 - us-east-1, first pricing tier
   */
  readonly perGbSecond?: number;
  /**
   * US dollars per million requests (one request is one batch).
   *
   * Range: 0 or more.
   * @default 0.2 - us-east-1
   */
  readonly perMillionRequests?: number;
}

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
   * Active X-Ray tracing of every function. The runtime records one subsegment per batch, with one
   * per stage and per job, annotated with `source`, `shard`, `batchId`, and each job's `status`,
   * so a slow or failing job stands out in the trace map and traces can be searched by them.
   * X-Ray bills traces recorded and read.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
   * @see https://aws.amazon.com/xray/pricing/
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Prices the dashboard uses to show what each source and each job costs per 1,000 records. The
   * runtime measures each invocation's GB-seconds (memory × billed duration, the init phase on a
   * cold start included) and divides them among stages and jobs by their measured time.
   *
   * @default - us-east-1 prices for arm64
   */
  readonly pricing?: LambdaPricing;
  /**
   * Keyed state for the runtime's stateful jobs (`aggregate`, `dedupe`, `join`) on every source:
   * one DynamoDB table for the pipeline (partition key `pk`, sort key `sk`, TTL attribute
   * `expiresAt`, on-demand, point-in-time recovery, encrypted, retained when it leaves the stack),
   * item read/write, Query and BatchGetItem for every function of each stateful source, the
   * table's name in `DRIVERLESS_STATE_TABLE`, and a tick schedule per function: an EventBridge
   * rule invoking its `live` alias every `stateTickInterval`, so windows close and joins time out
   * while a stream is quiet. A source's own `state` wins over this one.
   *
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
   * @default false
   */
  readonly state?: boolean;
  /**
   * How often the tick schedule invokes each stateful function's `live` alias (ticks follow the
   * alias, so they shift with traffic on a deploy). On a quiet stream, a window is emitted at most
   * this long after the watermark passes its end. Each tick is one asynchronous invocation per
   * function: 43,200 a month per function at the default.
   *
   * Range: whole minutes, from 1 minute (EventBridge's smallest rate) to 1 day. Needs `state` on
   * the pipeline or on a source.
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-rate-expressions
   * @default Duration.minutes(1)
   */
  readonly stateTickInterval?: Duration;
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
