import { type App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { MicroBatchPipeline } from '../../../lib/micro-batch-pipeline';
import type { SourceProps } from '../../../lib/source-props';
import { retailStack, sourceProps } from '../pipeline-fixtures';

/** An app to synthesize: it adds its stacks to `app`. */
export interface VariantApp {
  readonly name: string;
  readonly build: (app: App) => void;
}

/** CloudFormation's limit of resources per stack; CDK refuses to synthesize more. */
export const MAX_RESOURCES_PER_STACK = 500;

/** Resources of one source with one function and queues (the default): the largest variant's step. */
export const RESOURCES_PER_SOURCE = 23;

/**
 * Sources of the largest pipeline that fits in one stack: 2 resources per pipeline (the
 * CodeDeploy application and the dashboard), 23 per default source, CDK's metadata resource.
 */
export const LARGEST_PIPELINE_SOURCES = 21;

/**
 * The example app and variants that, between them, use every prop and combination the
 * constructs accept. Each is synthesized and linted as CloudFormation would see it.
 */
export const VARIANT_APPS: readonly VariantApp[] = [
  { name: 'example app', build: (app) => retailStack(app) },
  { name: 'example app, stage prod', build: (app) => retailStack(app, { stage: 'prod' }) },
  {
    name: 'buckets, checkpoints, isolated jobs, every pipeline option',
    build: (app) => {
      new MicroBatchPipeline(new Stack(app, 'Buckets'), 'Shop', {
        pipelineName: 'shop_orders-1',
        onFailureDestination: 'bucket',
        deadLetterDestination: 'bucket',
        checkpoints: true,
        deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
        iteratorAgeAlarmThreshold: Duration.minutes(5),
        concurrencyBudget: 50,
        concurrencyBudgetMode: 'warn',
        logRetention: logs.RetentionDays.ONE_WEEK,
        environment: { SHARED: 'pipeline' },
        sources: {
          events: sourceProps({
            stream: { shardCount: 3, retentionPeriod: Duration.days(7) },
            isolateJobs: ['slow', 'flaky_job-2'],
            jobs: ['fast'],
            environment: { OWN: 'source' },
          }),
          other: sourceProps({ stream: { shardCount: 40 } }),
        },
      });
    },
  },
  {
    name: 'archive to S3 through Firehose, with a customer managed stream key',
    build: (app) => {
      const stack = new Stack(app, 'Archived');
      const key = new kms.Key(stack, 'StreamKey', { enableKeyRotation: true });
      new MicroBatchPipeline(stack, 'Archived', {
        checkpoints: true,
        archive: { retention: Duration.days(30), bufferingInterval: Duration.seconds(60) },
        sources: {
          events: sourceProps({ isolateJobs: ['slow'] }),
          keyed: sourceProps({ stream: { shardCount: 2, encryptionKey: key } }),
        },
      });
    },
  },
  {
    name: 'queue dead letters with bucket on-failure, and bucket dead letters with queue on-failure',
    build: (app) => {
      const stack = new Stack(app, 'Mixed');
      new MicroBatchPipeline(stack, 'QueueLetters', {
        onFailureDestination: 'bucket',
        sources: { events: sourceProps({ isolateJobs: ['slow'] }) },
      });
      new MicroBatchPipeline(stack, 'BucketLetters', {
        deadLetterDestination: 'bucket',
        sources: { events: sourceProps({ metricsEventCount: false }) },
      });
    },
  },
  {
    name: 'customer managed keys, an existing stream and an imported one',
    build: (app) => {
      const stack = new Stack(app, 'Streams');
      const key = new kms.Key(stack, 'StreamKey', { enableKeyRotation: true });
      const existing = new kinesis.Stream(stack, 'Existing', {
        shardCount: 2,
        encryption: kinesis.StreamEncryption.KMS,
        encryptionKey: key,
      });
      const imported = kinesis.Stream.fromStreamArn(
        stack,
        'Imported',
        'arn:aws:kinesis:us-east-1:111122223333:stream/imported',
      );
      new MicroBatchPipeline(stack, 'Keys', {
        sources: {
          ownKey: sourceProps({
            stream: {
              shardCount: 1,
              encryptionKey: key,
              streamName: 'keyed-stream',
              removalPolicy: RemovalPolicy.DESTROY,
            },
            isolateJobs: ['slow'],
          }),
          existing: sourceProps({ stream: existing, isolateJobs: ['slow'] }),
          imported: sourceProps({ stream: imported, shardCount: 4, isolateJobs: ['slow'] }),
          unknownShards: sourceProps({
            stream: kinesis.Stream.fromStreamArn(
              stack,
              'Unknown',
              'arn:aws:kinesis:us-east-1:111122223333:stream/unknown',
            ),
          }),
        },
      });
    },
  },
  {
    name: 'tumbling windows, filters, AT_TIMESTAMP and every mapping and function option',
    build: (app) => {
      const window: Partial<SourceProps> = {
        tumblingWindow: Duration.minutes(15),
        filters: Array.from({ length: 10 }, (_, i) =>
          lambda.FilterCriteria.filter({ data: { kind: lambda.FilterRule.isEqual(`k${i}`) } }),
        ),
        startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
        startingPositionTimestamp: 1_700_000_000,
      };
      new MicroBatchPipeline(new Stack(app, 'Mappings'), 'Windows', {
        sources: {
          windowed: sourceProps({ ...window, isolateJobs: ['slow'] }),
          tuned: sourceProps({
            stream: { shardCount: 2, retentionPeriod: Duration.days(8) },
            batchSize: 10_000,
            maxBatchingWindow: Duration.seconds(300),
            parallelizationFactor: 10,
            startingPosition: lambda.StartingPosition.LATEST,
            retryAttempts: 0,
            maxRecordAge: Duration.days(7),
            bisectBatchOnError: false,
            reservedConcurrentExecutions: 20,
            memorySize: 10_240,
            timeout: Duration.minutes(15),
          }),
          smallest: sourceProps({
            batchSize: 1,
            maxRecordAge: Duration.seconds(60),
            memorySize: 128,
            timeout: Duration.seconds(1),
            tumblingWindow: Duration.seconds(0),
            retryAttempts: 10_000,
          }),
        },
      });
    },
  },
  {
    name: 'state: a table and ticks for isolated jobs, a source opting out, a per-source pipeline',
    build: (app) => {
      const stack = new Stack(app, 'State');
      new MicroBatchPipeline(stack, 'Stateful', {
        state: true,
        stateTickInterval: Duration.minutes(5),
        checkpoints: true,
        sources: {
          views: sourceProps({ isolateJobs: ['conversions'] }),
          orders: sourceProps(),
          audit: sourceProps({ state: false }),
        },
      });
      new MicroBatchPipeline(stack, 'OneStatefulSource', {
        deadLetterDestination: 'bucket',
        sources: { views: sourceProps({ state: true }), clicks: sourceProps() },
      });
    },
  },
  {
    name: 'maximum-length names',
    build: (app) => {
      const stack = new Stack(app, 'LongNames', { stackName: `L${'n'.repeat(127)}` });
      new MicroBatchPipeline(stack, 'LongestPipeline', {
        pipelineName: 'p'.repeat(64),
        sources: {
          [`s${'o'.repeat(63)}`]: sourceProps({
            stream: {
              shardCount: 1,
              streamName: 'n'.repeat(128),
              removalPolicy: RemovalPolicy.DESTROY,
            },
            jobs: ['j'.repeat(64)],
          }),
        },
      });
      // The longest consumer name synth accepts: 42 + 1 + 42 + 1 + 42 = 128 characters.
      new MicroBatchPipeline(stack, 'LongestConsumer', {
        pipelineName: 'q'.repeat(42),
        sources: { [`c${'o'.repeat(41)}`]: sourceProps({ isolateJobs: ['j'.repeat(42)] }) },
      });
    },
  },
  {
    name: `the largest pipeline that fits in one stack (${LARGEST_PIPELINE_SOURCES} sources)`,
    build: (app) => {
      new MicroBatchPipeline(new Stack(app, 'Largest'), 'Largest', {
        sources: Object.fromEntries(
          Array.from({ length: LARGEST_PIPELINE_SOURCES }, (_, i) => [`source${i}`, sourceProps()]),
        ),
      });
    },
  },
];
