import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { pipelineProps, problemsOf, sourceProps, synthPipeline } from './pipeline-fixtures';

describe('archive', () => {
  let template: Template;
  beforeAll(() => {
    template = synthPipeline(
      pipelineProps({
        archive: { retention: Duration.days(90), bufferingInterval: Duration.seconds(120) },
        sources: { events: sourceProps({ isolateJobs: ['slow'] }), other: sourceProps() },
      }),
    ).template;
  });

  test('reads every source stream with a Firehose delivery stream of its own', () => {
    // then
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 2);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: {
        KinesisStreamARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TestEventsStream'), 'Arn'] },
      },
    });
  });

  test('writes gzipped objects, one record per line, under records/<source>/YYYY/MM/DD/HH/', () => {
    // then
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'records/events/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/',
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 120, SizeInMBs: 64 },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'AppendDelimiterToRecord',
              Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }],
            },
          ],
        },
      }),
    });
  });

  test('keeps the archive in an encrypted bucket whose objects expire after the retention', () => {
    // then
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'ExpireArchive',
            Status: 'Enabled',
            ExpirationInDays: 90,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
  });

  test('creates no delivery stream without archive', () => {
    // when
    const { template: plain } = synthPipeline(pipelineProps());
    // then
    plain.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
  });

  test('fails if retention is under a day or the buffering interval over 900 seconds', () => {
    // when
    const problems = problemsOf(
      pipelineProps({
        archive: { retention: Duration.hours(12), bufferingInterval: Duration.seconds(901) },
      }),
      new Stack(new App(), 'Invalid'),
    );
    // then
    expect(problems).toStrictEqual([
      'archive.retention must be at least 1 day (given 12 hours)',
      'archive.bufferingInterval must be between 0 and 900 seconds (given 901)',
    ]);
  });
});

describe('backfill concurrency', () => {
  test("tells every function what the concurrency budget leaves beside the pipeline's mappings", () => {
    // given: 2 functions × 3 shards under a budget of 20
    const { template } = synthPipeline(
      pipelineProps({
        concurrencyBudget: 20,
        sources: { events: sourceProps({ stream: { shardCount: 3 }, isolateJobs: ['slow'] }) },
      }),
    );
    // then
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) => fn.Properties.Environment?.Variables?.DRIVERLESS_BACKFILL_CONCURRENCY,
    );
    expect(variables).toStrictEqual(['14', '14']);
  });
});
