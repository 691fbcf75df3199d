import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import type { SourceProps } from '../../lib/source-props';
import { PipelinePropsError } from '../../lib/validate-pipeline-props';
import { pipelineProps, problemsOf, sourceProps } from './pipeline-fixtures';

/** Problems of a pipeline whose only source, `events`, has these props. */
function sourceProblems(overrides: Partial<SourceProps>): string[] {
  return problemsOf(pipelineProps({ sources: { events: sourceProps(overrides) } }));
}

describe('validatePipelineProps', () => {
  test.each<[string, Partial<SourceProps>, string]>([
    [
      'batchSize',
      { batchSize: 0 },
      'sources.events.batchSize must be between 1 and 10000 (given 0)',
    ],
    [
      'batchSize',
      { batchSize: 10_001 },
      'sources.events.batchSize must be between 1 and 10000 (given 10001)',
    ],
    [
      'batchSize',
      { batchSize: 1.5 },
      'sources.events.batchSize must be a whole number between 1 and 10000 (given 1.5)',
    ],
    [
      'maxBatchingWindow',
      { maxBatchingWindow: Duration.seconds(301) },
      'sources.events.maxBatchingWindow must be between 0 and 300 seconds (given 5 minutes 1 second)',
    ],
    [
      'maxBatchingWindow',
      { maxBatchingWindow: Duration.millis(1500) },
      'sources.events.maxBatchingWindow must be whole seconds between 0 and 300 seconds (given 1 second 500 millis)',
    ],
    [
      'parallelizationFactor',
      { parallelizationFactor: 11 },
      'sources.events.parallelizationFactor must be between 1 and 10 (given 11)',
    ],
    [
      'retryAttempts',
      { retryAttempts: -1 },
      'sources.events.retryAttempts must be between 0 and 10000 (given -1)',
    ],
    [
      'maxRecordAge',
      { maxRecordAge: Duration.seconds(59) },
      'sources.events.maxRecordAge must be between 60 and 604800 seconds (given 59 seconds)',
    ],
    [
      'tumblingWindow',
      { tumblingWindow: Duration.seconds(901) },
      'sources.events.tumblingWindow must be between 0 and 900 seconds (given 15 minutes 1 second)',
    ],
    [
      'memorySize',
      { memorySize: 64 },
      'sources.events.memorySize must be between 128 and 10240 (given 64)',
    ],
    [
      'timeout',
      { timeout: Duration.minutes(16) },
      'sources.events.timeout must be between 1 and 900 seconds (given 16 minutes)',
    ],
    [
      'reservedConcurrentExecutions',
      { reservedConcurrentExecutions: 0 },
      'sources.events.reservedConcurrentExecutions must be at least 1 (given 0)',
    ],
    [
      'stream.shardCount',
      { stream: { shardCount: 0 } },
      'sources.events.stream.shardCount must be at least 1 (given 0)',
    ],
    [
      'stream.retentionPeriod',
      { stream: { shardCount: 1, retentionPeriod: Duration.hours(12) } },
      'sources.events.stream.retentionPeriod must be between 86400 and 31536000 seconds (given 12 hours)',
    ],
    [
      'entry',
      { entry: ' ' },
      "sources.events.entry must be the path of a handler module (given '')",
    ],
    [
      'filters',
      { filters: Array.from({ length: 11 }, () => ({ data: { kind: ['view'] } })) },
      'sources.events.filters must hold at most 10 patterns (given 11)',
    ],
    [
      'isolateJobs',
      { isolateJobs: ['a,b'] },
      "sources.events.isolateJobs names must be 1 to 64 letters, digits, '-' or '_' (given 'a,b')",
    ],
    [
      'isolateJobs',
      { isolateJobs: ['a', 'a'] },
      "sources.events.isolateJobs must not repeat a job (given 'a' twice)",
    ],
    [
      'jobs',
      { jobs: ['!a'] },
      "sources.events.jobs names must be 1 to 64 letters, digits, '-' or '_' (given '!a')",
    ],
    [
      'environment',
      { environment: { DRIVERLESS_JOBS: 'a' } },
      'sources.events.environment.DRIVERLESS_JOBS is reserved: names starting with DRIVERLESS_ are set by the pipeline',
    ],
    [
      'startingPositionTimestamp',
      { startingPosition: lambda.StartingPosition.AT_TIMESTAMP },
      'sources.events.startingPositionTimestamp is required when startingPosition is AT_TIMESTAMP (given none)',
    ],
    [
      'startingPositionTimestamp',
      { startingPositionTimestamp: 1_700_000_000 },
      'sources.events.startingPositionTimestamp and startingPosition TRIM_HORIZON are mutually exclusive: a timestamp needs AT_TIMESTAMP (given 1700000000)',
    ],
    [
      'stream.streamName',
      { stream: { shardCount: 1, streamName: 'product views' } },
      "sources.events.stream.streamName must be 1 to 128 letters, digits, '_', '.' or '-' (given 'product views', 13 characters)",
    ],
    [
      'stream.streamName',
      { stream: { shardCount: 1, streamName: 's'.repeat(129) } },
      `sources.events.stream.streamName must be 1 to 128 letters, digits, '_', '.' or '-' (given '${'s'.repeat(129)}', 129 characters)`,
    ],
    [
      'shardCount',
      { shardCount: 2 },
      'sources.events.shardCount and sources.events.stream.shardCount are mutually exclusive: shardCount is a hint for imported streams only (given 2 and 1)',
    ],
  ])('fails if %s is invalid: %j', (_prop, overrides, message) => {
    // when
    const problems = sourceProblems(overrides);
    // then
    expect(problems).toStrictEqual([message]);
  });

  test('fails if a source name is not letters and digits', () => {
    // when
    const problems = problemsOf(pipelineProps({ sources: { 'product-views': sourceProps() } }));
    // then
    expect(problems).toStrictEqual([
      "sources.product-views: source names must be 1 to 64 letters and digits, starting with a letter (given 'product-views')",
    ]);
  });

  test('fails if there is no source', () => {
    // when
    const problems = problemsOf({ sources: {} });
    // then
    expect(problems).toStrictEqual(['sources must name at least one source (given none)']);
  });

  test('fails if the pipeline name has other characters', () => {
    // when
    const problems = problemsOf(pipelineProps({ pipelineName: 'retail pipeline' }));
    // then
    expect(problems).toStrictEqual([
      "pipelineName must be 1 to 64 letters, digits, '-' or '_' (given 'retail pipeline')",
    ]);
  });

  test('fails if the pipeline environment sets a reserved name', () => {
    // when
    const problems = problemsOf(pipelineProps({ environment: { DRIVERLESS_SOURCE: 'x' } }));
    // then
    expect(problems).toStrictEqual([
      'environment.DRIVERLESS_SOURCE is reserved: names starting with DRIVERLESS_ are set by the pipeline',
    ]);
  });

  test('fails if the iterator age threshold is under a second', () => {
    // when
    const problems = problemsOf(pipelineProps({ iteratorAgeAlarmThreshold: Duration.millis(0) }));
    // then
    expect(problems).toStrictEqual([
      'iteratorAgeAlarmThreshold must be at least 1 seconds (given 0 millis)',
    ]);
  });

  test('fails if the concurrency budget is not a positive integer', () => {
    // when
    const problems = problemsOf(pipelineProps({ concurrencyBudget: 0 }));
    // then
    expect(problems).toContain('concurrencyBudget must be at least 1 (given 0)');
  });

  test('fails if checkpoints meet a parallelization factor above 1', () => {
    // when
    const problems = problemsOf(
      pipelineProps({
        checkpoints: true,
        sources: { events: sourceProps({ parallelizationFactor: 2 }) },
      }),
    );
    // then
    expect(problems).toStrictEqual([
      'sources.events.parallelizationFactor must be 1 with checkpoints (given 2): a per-shard cursor is wrong when one shard has several batches in flight',
    ]);
  });

  test('fails if isolated jobs need more than 20 consumers on one stream', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const stream = kinesis.Stream.fromStreamArn(
      stack,
      'Shared',
      'arn:aws:kinesis:us-east-1:111122223333:stream/shared',
    );
    const jobs = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    // when
    const problems = problemsOf(
      {
        sources: {
          first: sourceProps({ stream, shardCount: 1, isolateJobs: jobs('a', 11) }),
          second: sourceProps({ stream, shardCount: 1, isolateJobs: jobs('b', 10) }),
        },
      },
      stack,
    );
    // then
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^isolateJobs must add at most 20 enhanced fan-out consumers per stream \(given 21: first\.a0, /,
    );
  });

  test("fails if an isolated job's consumer name would pass the 128 characters CloudFormation allows", () => {
    // given: names each within their own limit, 194 characters together
    const pipelineName = 'p'.repeat(64);
    const source = `s${'o'.repeat(63)}`;
    const job = 'j'.repeat(64);
    // when
    const problems = problemsOf({
      pipelineName,
      sources: { [source]: sourceProps({ isolateJobs: [job] }) },
    });
    // then
    expect(problems).toStrictEqual([
      `sources.${source}.isolateJobs: the consumer of job '${job}' is named '<pipelineName>-<source>-<job>', which must be at most 128 characters ` +
        `(given 194: '${pipelineName}-${source}-${job}'); shorten pipelineName, the source name or the job name`,
    ]);
  });

  test('accepts a consumer name of exactly 128 characters', () => {
    // when
    const problems = problemsOf({
      pipelineName: 'p'.repeat(42),
      sources: { [`s${'o'.repeat(41)}`]: sourceProps({ isolateJobs: ['j'.repeat(42)] }) },
    });
    // then
    expect(problems).toStrictEqual([]);
  });

  test('reports every problem of a pipeline in one synth validation error, not a constructor throw', () => {
    // given
    const app = new App();
    const build = () =>
      new MicroBatchPipeline(new Stack(app, 'TestStack'), 'Test', {
        sources: {
          events: sourceProps({ batchSize: 0, parallelizationFactor: 11 }),
          other: sourceProps({ memorySize: 1 }),
        },
      });
    // when
    expect(build).not.toThrow();
    // then
    expect(() => app.synth()).toThrow(
      [
        'Validation failed with the following errors:',
        '  [TestStack/Test] sources.events.batchSize must be between 1 and 10000 (given 0)',
        '  [TestStack/Test] sources.events.parallelizationFactor must be between 1 and 10 (given 11)',
        '  [TestStack/Test] sources.other.memorySize must be between 128 and 10240 (given 1)',
      ].join('\n'),
    );
  });

  test('builds nothing from invalid props, and source() then throws every problem', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    // when
    const pipeline = new MicroBatchPipeline(stack, 'Test', {
      sources: { events: sourceProps({ batchSize: 0 }) },
    });
    // then
    expect(pipeline.functions).toStrictEqual([]);
    expect(stack.node.findAll().filter((c) => c instanceof lambda.Function)).toStrictEqual([]);
    expect(() => pipeline.source('events')).toThrow(PipelinePropsError);
    expect(() => pipeline.source('events')).toThrow(
      "Invalid props for MicroBatchPipeline 'Test':\n  - sources.events.batchSize must be between 1 and 10000 (given 0)",
    );
  });

  test('skips values that are unresolved tokens', () => {
    // when
    const problems = sourceProblems({
      batchSize: Token.asNumber({ Ref: 'BatchSize' }),
      maxBatchingWindow: Duration.seconds(Token.asNumber({ Ref: 'Window' })),
      reservedConcurrentExecutions: Token.asNumber({ Ref: 'Reserved' }),
    });
    // then
    expect(problems).toStrictEqual([]);
  });
});
