import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { pipelineProps, problemsOf, sourceProps, synthPipeline } from './pipeline-fixtures';

interface Resource {
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** Resources of `type`, the pipeline's access-log bucket left out (it holds no failures). */
function resources(template: Template, type: string): Resource[] {
  return Object.entries(template.findResources(type))
    .filter(([logicalId]) => !logicalId.startsWith('TestAccessLogs'))
    .map(([, resource]) => resource as Resource);
}

describe('retention of failed records', () => {
  describe('by default', () => {
    let queues: Template;
    let buckets: Template;
    beforeAll(() => {
      // Queues: dead letters, their payload bucket and on-failure queues; then buckets for both.
      queues = synthPipeline(pipelineProps()).template;
      buckets = synthPipeline(
        pipelineProps({ onFailureDestination: 'bucket', deadLetterDestination: 'bucket' }),
      ).template;
    });

    test('expires the objects of every failure bucket after 14 days, as long as a queue keeps a letter', () => {
      // when
      const rules = [queues, buckets].flatMap((t) =>
        resources(t, 'AWS::S3::Bucket').map((b) => b.Properties.LifecycleConfiguration),
      );
      // then
      expect(rules).toHaveLength(3);
      expect(new Set(rules.map((r) => JSON.stringify(r)))).toStrictEqual(
        new Set([
          JSON.stringify({
            Rules: [{ ExpirationInDays: 14, Id: 'ExpireFailures', Status: 'Enabled' }],
          }),
        ]),
      );
    });

    test('keeps queue messages 14 days', () => {
      // when
      const retention = resources(queues, 'AWS::SQS::Queue').map(
        (q) => q.Properties.MessageRetentionPeriod,
      );
      // then
      expect(retention).toStrictEqual([1_209_600, 1_209_600]);
    });

    test('retains failure queues and buckets when they leave the stack, like log groups', () => {
      // when
      const policies = [queues, buckets].flatMap((t) =>
        [...resources(t, 'AWS::SQS::Queue'), ...resources(t, 'AWS::S3::Bucket')].map((r) => [
          r.DeletionPolicy,
          r.UpdateReplacePolicy,
        ]),
      );
      // then
      expect(policies).toHaveLength(5);
      expect(policies.filter(([d, u]) => d !== 'Retain' || u !== 'Retain')).toStrictEqual([]);
    });
  });

  test('keeps failures for the given failureRetention in queues and buckets alike', () => {
    // given
    const { template } = synthPipeline(
      pipelineProps({ failureRetention: Duration.days(3), sources: { events: sourceProps() } }),
    );
    // when
    const queues = resources(template, 'AWS::SQS::Queue').map(
      (q) => q.Properties.MessageRetentionPeriod,
    );
    const buckets = resources(template, 'AWS::S3::Bucket').map(
      (b) => (b.Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules,
    );
    // then
    expect(queues).toStrictEqual([259_200, 259_200]);
    expect(buckets).toStrictEqual([
      [{ ExpirationInDays: 3, Id: 'ExpireFailures', Status: 'Enabled' }],
    ]);
  });

  test.each([
    [Duration.days(15), 'failureRetention must be between 1 and 14 days (given 15 days)'],
    [
      Duration.hours(36),
      'failureRetention must be whole days between 1 and 14 days (given 1 day 12 hours)',
    ],
  ])('fails if failureRetention is %s', (failureRetention, problem) => {
    // when
    const problems = problemsOf(pipelineProps({ failureRetention }));
    // then
    expect(problems).toStrictEqual([problem]);
  });
});
