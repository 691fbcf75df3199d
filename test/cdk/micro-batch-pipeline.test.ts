import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import type { SourceProps } from '../../lib/source-props';
import {
  pipelineProps,
  referencedLogicalIds,
  sourceProps,
  synthPipeline,
} from './pipeline-fixtures';

describe('MicroBatchPipeline defaults', () => {
  let template: Template;
  let pipeline: MicroBatchPipeline;
  beforeAll(() => {
    ({ template, pipeline } = synthPipeline(pipelineProps()));
  });

  test('maps with bounded, opinionated defaults', () => {
    // then
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MetricsConfig: { Metrics: ['EventCount'] },
      FilterCriteria: Match.absent(),
      TumblingWindowInSeconds: Match.absent(),
    });
  });

  test('keeps records in a created stream a week, six days past maxRecordAge, to redrive them', () => {
    // then
    template.hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: 168 });
  });

  test('sizes the function at 512 MB and one minute, without reserved concurrency', () => {
    // then
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 60,
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  test('names the pipeline after the construct and runs every job in the main function', () => {
    // then
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRIVERLESS_PIPELINE: 'Test',
          DRIVERLESS_SOURCE: 'events',
          DRIVERLESS_JOBS: Match.absent(),
          DRIVERLESS_CHECKPOINT_TABLE: Match.absent(),
          POWERTOOLS_SERVICE_NAME: 'Test',
        }),
      },
    });
  });

  test('creates no checkpoint table unless asked', () => {
    // then
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(pipeline.checkpointTable).toBeUndefined();
  });

  test('exposes a source with its function, alias, stream and queues', () => {
    // when
    const source = pipeline.source('events');
    // then
    expect(source.functions).toStrictEqual([source.function]);
    expect(source.alias.aliasName).toBe('live');
    expect(source.jobFunctions).toStrictEqual({});
    expect(source.deadLetterQueue).toBeDefined();
    expect(source.onFailureQueue).toBeDefined();
    expect(source.deadLetterBucket).toBeUndefined();
    expect(source.onFailureBucket).toBeUndefined();
    expect(pipeline.functions).toStrictEqual([source.function]);
  });

  test('keeps the payloads of dead letters too large for SQS in a bucket named beside the queue', () => {
    // when
    const source = pipeline.source('events');
    // then
    expect(source.deadLetterPayloadBucket).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRIVERLESS_DEAD_LETTER_QUEUE_URL: {
            Ref: Match.stringLikeRegexp('^TestEventsDeadLetters'),
          },
          DRIVERLESS_DEAD_LETTER_BUCKET: {
            Ref: Match.stringLikeRegexp('^TestEventsDeadLetterPayloads'),
          },
        }),
      },
    });
  });

  test('lets the function only put objects into the dead-letter payload bucket', () => {
    // given
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements: Array<{ Action: string | string[]; Resource: unknown }> =
      policy!.Properties.PolicyDocument.Statement;
    // when
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    // then
    expect(s3.map((s) => [[s.Action].flat(), [...referencedLogicalIds(s.Resource)]])).toStrictEqual(
      [[['s3:PutObject'], [expect.stringMatching(/^TestEventsDeadLetterPayloads/)]]],
    );
  });

  test('fails if asked for a source it does not have', () => {
    // then
    expect(() => pipeline.source('orders')).toThrow(
      "MicroBatchPipeline 'Test' has no source 'orders' (sources: events)",
    );
  });
});

/** The logical ID of a function's CloudFormation resource. */
function logicalIdOf(fn: lambda.IFunction): string {
  return Stack.of(fn).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
}

describe('MicroBatchPipeline options', () => {
  let template: Template;
  let pipeline: MicroBatchPipeline;
  beforeAll(() => {
    ({ template, pipeline } = synthPipeline({
      pipelineName: 'shop',
      onFailureDestination: 'bucket',
      deadLetterDestination: 'bucket',
      checkpoints: true,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
      iteratorAgeAlarmThreshold: Duration.minutes(5),
      environment: { SHARED: 'pipeline', OVERRIDDEN: 'pipeline' },
      sources: {
        events: sourceProps({
          stream: { shardCount: 3, streamName: 'events', retentionPeriod: Duration.days(7) },
          batchSize: 1000,
          maxBatchingWindow: Duration.seconds(5),
          startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
          startingPositionTimestamp: 1_700_000_000,
          retryAttempts: 3,
          maxRecordAge: Duration.hours(1),
          bisectBatchOnError: false,
          filters: [
            lambda.FilterCriteria.filter({ data: { kind: lambda.FilterRule.isEqual('view') } }),
          ],
          tumblingWindow: Duration.minutes(1),
          metricsEventCount: false,
          reservedConcurrentExecutions: 4,
          memorySize: 1024,
          timeout: Duration.seconds(30),
          environment: { OVERRIDDEN: 'source' },
          isolateJobs: ['slow', 'flaky'],
        }),
      },
    }));
  });

  test('passes every mapping setting through', () => {
    // then
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsStream'), 'Arn'] },
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 5,
      StartingPosition: 'AT_TIMESTAMP',
      StartingPositionTimestamp: 1_700_000_000,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: false,
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"kind":["view"]}}' }] },
      TumblingWindowInSeconds: 60,
      MetricsConfig: Match.absent(),
    });
  });

  test('excludes every isolated job from the main function and gives each its own', () => {
    // then
    for (const jobs of ['!slow,!flaky', 'slow', 'flaky']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ DRIVERLESS_JOBS: jobs }) },
      });
    }
    expect(Object.keys(pipeline.source('events').jobFunctions)).toStrictEqual(['slow', 'flaky']);
  });

  test('reserves concurrency and sizes every function of the source', () => {
    // then
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.allResourcesProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 4,
      MemorySize: 1024,
      Timeout: 30,
    });
  });

  test('lets source variables win over pipeline variables', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SHARED: 'pipeline',
          OVERRIDDEN: 'source',
          POWERTOOLS_SERVICE_NAME: 'shop',
        }),
      },
    });
  });

  test('sends given-up records with their payload to a private, encrypted, SSL-only bucket', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailure'), 'Arn'] } },
      },
    });
    // Dead letters and on-failure records of three functions, and the access-log bucket.
    template.resourceCountIs('AWS::S3::Bucket', 5);
    template.allResourcesProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.allResourcesProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('lets a function only put objects into its buckets and list its on-failure bucket', () => {
    // given
    const role = Object.keys(
      template.findResources('AWS::IAM::Role', {
        Properties: { Description: 'shop/events: isolated job slow' },
      }),
    )[0];
    const policy = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    )[0]!;
    const statements: Array<{ Action: string | string[]; Resource: unknown }> =
      policy.Properties.PolicyDocument.Statement;
    // when
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    // then
    expect(s3.map((s) => [[s.Action].flat(), [...referencedLogicalIds(s.Resource)]])).toStrictEqual(
      [
        [['s3:PutObject'], [expect.stringMatching(/^TestEventsJobSlowOnFailure/)]],
        [['s3:ListBucket'], [expect.stringMatching(/^TestEventsJobSlowOnFailure/)]],
        [['s3:PutObject'], [expect.stringMatching(/^TestEventsDeadLetters/)]],
      ],
    );
  });

  test('names the dead-letter bucket in the environment', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRIVERLESS_DEAD_LETTER_BUCKET: { Ref: Match.stringLikeRegexp('^TestEventsDeadLetters') },
          DRIVERLESS_DEAD_LETTER_QUEUE_URL: Match.absent(),
        }),
      },
    });
  });

  test('alarms on records delivered to the on-failure bucket only when mapping metrics are on', () => {
    // then
    expect(
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SQS' } }),
      ),
    ).toHaveLength(0);
    expect(
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { MetricName: 'DroppedEventCount' },
        }),
      ),
    ).toHaveLength(0);
  });

  test('alarms on the dead-letter metric of a bucket summed over the functions, each reporting its own', () => {
    // given
    const [alarm] = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmDescription: Match.stringLikeRegexp('became dead letters') },
      }),
    );
    const metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: unknown } }> =
      alarm!.Properties.Metrics;
    // when
    const summed = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric);
    // then
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('SUM([m0, m1, m2])');
    expect(summed).toStrictEqual(
      pipeline.source('events').functions.map((fn) => ({
        Namespace: 'Driverless',
        MetricName: 'DeadLetters',
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: logicalIdOf(fn) } },
          { Name: 'Source', Value: 'events' },
          { Name: 'service', Value: 'shop' },
        ],
      })),
    );
  });

  test('creates a checkpoint table and hands it to every function', () => {
    // then
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRIVERLESS_CHECKPOINT_TABLE: { Ref: Match.stringLikeRegexp('^TestCheckpoints') },
        }),
      },
    });
  });

  test('deploys all at once when asked', () => {
    // then
    template.allResourcesProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
    });
  });

  test('alarms on iterator age at the given threshold', () => {
    // then
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 300_000,
    });
  });

  test('creates the stream with the given name, shards and retention', () => {
    // then
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'events',
      ShardCount: 3,
      RetentionPeriodHours: 168,
    });
  });
});

describe('MicroBatchPipeline with an imported stream', () => {
  test('maps the imported stream and creates none', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const arn = 'arn:aws:kinesis:us-east-1:111122223333:stream/imported';
    const stream = kinesis.Stream.fromStreamArn(stack, 'Imported', arn);
    // when
    new MicroBatchPipeline(stack, 'Test', {
      sources: { events: sourceProps({ stream, shardCount: 1 }) },
    });
    const template = Template.fromStack(stack);
    // then
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: arn });
  });
});

describe('MicroBatchPipeline streams', () => {
  /** The `driverless:retainedNamedStream` warnings of a pipeline whose `events` stream is `stream`. */
  function retainedNameWarnings(stream: SourceProps['stream']): string[] {
    const { stack } = synthPipeline(
      pipelineProps({ sources: { events: sourceProps({ stream }) } }),
    );
    return Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('retainedNamedStream'))
      .map((w) => `${w.id}: ${w.entry.data}`);
  }

  test('retains a created stream by default', () => {
    // when
    const { template } = synthPipeline(pipelineProps());
    // then
    template.hasResource('AWS::Kinesis::Stream', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('warns at synth when a fixed stream name meets a retained stream, saying what to change', () => {
    // when
    const warnings = retainedNameWarnings({ shardCount: 1, streamName: 'events' });
    // then
    expect(warnings).toStrictEqual([
      '/TestStack/Test/Events/Stream: ' +
        "sources.events.stream: stream 'events' has a fixed name and is retained when it leaves the stack, " +
        'so the next deploy after cdk destroy or a rolled-back first create fails with "already exists", ' +
        'and a second stage in the same account and region collides with it. ' +
        'Remove sources.events.stream.streamName to get a generated name, or set removalPolicy: RemovalPolicy.DESTROY ' +
        'and put the stage in the name. [ack: driverless:retainedNamedStream]',
    ]);
  });

  test.each<[string, SourceProps['stream']]>([
    ['a generated name', { shardCount: 1 }],
    [
      'a fixed name on a stream that is deleted with the stack',
      { shardCount: 1, streamName: 'events', removalPolicy: RemovalPolicy.DESTROY },
    ],
  ])('does not warn about %s', (_case, stream) => {
    // when / then
    expect(retainedNameWarnings(stream)).toStrictEqual([]);
  });

  test('deletes a stream with the stack when asked', () => {
    // when
    const { template } = synthPipeline(
      pipelineProps({
        sources: {
          events: sourceProps({ stream: { shardCount: 1, removalPolicy: RemovalPolicy.DESTROY } }),
        },
      }),
    );
    // then
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  test('encrypts with the AWS managed key by default', () => {
    // when
    const { template } = synthPipeline(pipelineProps());
    // then
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  test('encrypts with a customer managed key when given one, and lets every function decrypt with it', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const key = new kms.Key(stack, 'StreamKey', { enableKeyRotation: true });
    // when
    new MicroBatchPipeline(stack, 'Test', {
      sources: {
        events: sourceProps({
          stream: { shardCount: 1, encryptionKey: key },
          isolateJobs: ['slow'],
        }),
      },
    });
    const template = Template.fromStack(stack);
    // then
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    template.resourcePropertiesCountIs(
      'AWS::IAM::Policy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'kms:Decrypt',
              Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
            }),
          ]),
        },
      },
      2,
    );
  });
});
