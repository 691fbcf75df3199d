import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type {
  ConcurrencyBudgetMode,
  FailureDestinationKind,
  LambdaPricing,
  MicroBatchPipelineProps,
} from './micro-batch-pipeline-props';
import type { NewStreamProps, SourceProps } from './source-props';

/**
 * The opinionated defaults, in one place. Where AWS's own default is unsafe for a stream
 * (infinite retries and record age block a shard behind one poison record until it expires,
 * docs/event-source-mapping.md#retries), ours is bounded.
 */
export const DEFAULTS = {
  source: {
    batchSize: 100,
    maxBatchingWindow: Duration.seconds(0),
    parallelizationFactor: 1,
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    retryAttempts: 10,
    maxRecordAge: Duration.days(1),
    bisectBatchOnError: true,
    metricsEventCount: true,
    memorySize: 512,
    timeout: Duration.minutes(1),
  },
  stream: {
    // Kinesis keeps records 24 hours unless asked: with the 1-day maxRecordAge, a record discarded
    // for its age would already be gone when its pointer reached the on-failure queue. A week
    // leaves the redrive window (6 days after maxRecordAge) a long weekend needs.
    retentionPeriod: Duration.days(7),
    // Unprocessed records outlive an accidental `cdk destroy`.
    removalPolicy: RemovalPolicy.RETAIN as RemovalPolicy,
  },
  pipeline: {
    deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
    concurrencyBudget: 1000,
    concurrencyBudgetMode: 'fail' as ConcurrencyBudgetMode,
    iteratorAgeAlarmThreshold: Duration.minutes(1),
    onFailureDestination: 'queue' as FailureDestinationKind,
    deadLetterDestination: 'queue' as FailureDestinationKind,
    logRetention: logs.RetentionDays.ONE_MONTH,
    checkpoints: false,
    tracing: false,
    state: false,
    // EventBridge's smallest rate: windows on a quiet stream close within a minute of being due.
    stateTickInterval: Duration.minutes(1),
    redriveWindow: Duration.days(1),
    alarmActions: [] as readonly cloudwatch.IAlarmAction[],
    // SQS's maximum: a dead letter must outlive a long weekend, and no longer than that.
    failureRetention: Duration.days(14),
  },
  // us-east-1, arm64 (the functions' architecture), first tier: https://aws.amazon.com/lambda/pricing/
  pricing: { perGbSecond: 0.0000133334, perMillionRequests: 0.2 },
} as const;

/** Source props with every default applied. */
export type ResolvedSourceProps = SourceProps &
  Required<
    Pick<
      SourceProps,
      | 'batchSize'
      | 'maxBatchingWindow'
      | 'parallelizationFactor'
      | 'startingPosition'
      | 'retryAttempts'
      | 'maxRecordAge'
      | 'bisectBatchOnError'
      | 'metricsEventCount'
      | 'memorySize'
      | 'timeout'
      | 'isolateJobs'
      | 'jobs'
      | 'state'
    >
  >;

/** Pipeline props with every default applied (sources resolved too). */
export type ResolvedPipelineProps = Omit<MicroBatchPipelineProps, 'sources'> &
  Required<
    Pick<
      MicroBatchPipelineProps,
      | 'pipelineName'
      | 'deploymentConfig'
      | 'concurrencyBudget'
      | 'concurrencyBudgetMode'
      | 'iteratorAgeAlarmThreshold'
      | 'onFailureDestination'
      | 'deadLetterDestination'
      | 'logRetention'
      | 'checkpoints'
      | 'tracing'
      | 'state'
      | 'stateTickInterval'
      | 'redriveWindow'
      | 'alarmActions'
      | 'failureRetention'
    >
  > & {
    readonly sources: Readonly<Record<string, ResolvedSourceProps>>;
    readonly pricing: Required<LambdaPricing>;
  };

/** Merges user props over {@link DEFAULTS}; an explicit `undefined` keeps the default. */
export function withDefaults(props: MicroBatchPipelineProps, id: string): ResolvedPipelineProps {
  const sources: Record<string, ResolvedSourceProps> = {};
  for (const [name, source] of Object.entries(props.sources)) {
    sources[name] = {
      ...definedOnly(source),
      ...mergeDefined(DEFAULTS.source, source),
      isolateJobs: source.isolateJobs ?? [],
      jobs: source.jobs ?? [],
      state: source.state ?? props.state ?? DEFAULTS.pipeline.state,
    } as ResolvedSourceProps;
  }
  return {
    ...definedOnly(props),
    ...mergeDefined(DEFAULTS.pipeline, props),
    pipelineName: props.pipelineName ?? id,
    sources,
    pricing: { ...DEFAULTS.pricing, ...definedOnly(props.pricing ?? {}) },
  } as ResolvedPipelineProps;
}

/** Stream props with defaults applied. */
export function streamWithDefaults(
  stream: NewStreamProps,
): NewStreamProps & typeof DEFAULTS.stream {
  return { ...DEFAULTS.stream, ...definedOnly(stream), shardCount: stream.shardCount };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function mergeDefined<D extends object>(defaults: D, given: object): D {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) {
    if (key in defaults && value !== undefined) out[key] = value;
  }
  return out as D;
}
