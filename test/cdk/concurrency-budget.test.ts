import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import { problemsOf, sourceProps } from './pipeline-fixtures';

const IMPORTED = 'arn:aws:kinesis:us-east-1:111122223333:stream/imported';

describe('concurrency guardrail', () => {
  test('fails if shards × parallelization factor over all functions exceed the budget', () => {
    // when
    const problems = problemsOf({
      concurrencyBudget: 100,
      sources: {
        views: sourceProps({
          stream: { shardCount: 10 },
          parallelizationFactor: 5,
          isolateJobs: ['popularity'],
        }),
        orders: sourceProps({ stream: { shardCount: 2 }, parallelizationFactor: 1 }),
      },
    });
    // then
    expect(problems).toStrictEqual([
      "concurrencyBudget must be at least 102, the pipeline's maximum concurrency (given 100): " +
        'views: 2 functions × 10 shards × parallelizationFactor 5 = 100; orders: 1 function × 2 shards × parallelizationFactor 1 = 2',
    ]);
  });

  test('fails if reserved concurrency exceeds the budget, counting it instead of shards', () => {
    // when
    const problems = problemsOf({
      concurrencyBudget: 50,
      sources: {
        views: sourceProps({ stream: { shardCount: 1 }, reservedConcurrentExecutions: 60 }),
      },
    });
    // then
    expect(problems).toStrictEqual([
      "concurrencyBudget must be at least 60, the pipeline's maximum concurrency (given 50): " +
        'views: 1 function × reservedConcurrentExecutions 60 = 60',
    ]);
  });

  test('counts the shard count hint of an imported stream', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const stream = kinesis.Stream.fromStreamArn(stack, 'Imported', IMPORTED);
    // when
    const problems = problemsOf(
      {
        concurrencyBudget: 10,
        sources: { views: sourceProps({ stream, shardCount: 4, parallelizationFactor: 3 }) },
      },
      stack,
    );
    // then
    expect(problems).toStrictEqual([
      "concurrencyBudget must be at least 12, the pipeline's maximum concurrency (given 10): " +
        'views: 1 function × 4 shards × parallelizationFactor 3 = 12',
    ]);
  });

  test('reads the shard count of a stream defined in the app', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const stream = new kinesis.Stream(stack, 'Defined', { shardCount: 8 });
    // when
    const problems = problemsOf(
      { concurrencyBudget: 7, sources: { views: sourceProps({ stream }) } },
      stack,
    );
    // then
    expect(problems).toStrictEqual([
      "concurrencyBudget must be at least 8, the pipeline's maximum concurrency (given 7): " +
        'views: 1 function × 8 shards × parallelizationFactor 1 = 8',
    ]);
  });

  test('warns instead of failing in warn mode', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    // when
    new MicroBatchPipeline(stack, 'Test', {
      concurrencyBudget: 1,
      concurrencyBudgetMode: 'warn',
      sources: { views: sourceProps({ stream: { shardCount: 2 } }) },
    });
    // then
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Test',
      Match.stringLikeRegexp(
        "^concurrencyBudget must be at least 2, the pipeline's maximum concurrency \\(given 1\\)",
      ),
    );
  });

  test('warns when an imported stream has no shard count hint, and counts it as one shard', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    const stream = kinesis.Stream.fromStreamArn(stack, 'Imported', IMPORTED);
    // when
    new MicroBatchPipeline(stack, 'Test', { sources: { views: sourceProps({ stream }) } });
    // then
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Test',
      Match.stringLikeRegexp("^sources.views: the stream's shard count is unknown, counted as 1"),
    );
  });
});
