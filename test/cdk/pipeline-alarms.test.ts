import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import type { MicroBatchPipelineProps } from '../../lib/micro-batch-pipeline-props';
import { sourceProps } from './pipeline-fixtures';

/** A pipeline `Test` over `events` (with an isolated job `slow`), alarming to a topic. */
function pipelineWithTopic(overrides: Partial<MicroBatchPipelineProps> = {}) {
  const stack = new Stack(new App(), 'TestStack');
  const topic = new sns.Topic(stack, 'Oncall', { enforceSSL: true });
  const pipeline = new MicroBatchPipeline(stack, 'Test', {
    alarmActions: [new cloudwatchActions.SnsAction(topic)],
    sources: { events: sourceProps({ isolateJobs: ['slow'] }) },
    ...overrides,
  });
  const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
  return { stack, pipeline, topicRef, template: Template.fromStack(stack) };
}

type AlarmActions = { AlarmActions?: unknown; OKActions?: unknown };

describe('MicroBatchPipeline alarm actions', () => {
  test.each([
    ['queues', {}],
    ['buckets', { onFailureDestination: 'bucket', deadLetterDestination: 'bucket' }],
  ] as const)('notifies ALARM and OK of every alarm to the given actions, with %s', (_, props) => {
    // given
    const { template, topicRef } = pipelineWithTopic(props);
    // when
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as AlarmActions,
    );
    // then
    expect(alarms.length).toBeGreaterThan(10);
    expect(
      alarms.filter((a) => JSON.stringify(a.AlarmActions) !== JSON.stringify([topicRef])),
    ).toStrictEqual([]);
    expect(
      alarms.filter((a) => JSON.stringify(a.OKActions) !== JSON.stringify([topicRef])),
    ).toStrictEqual([]);
  });

  test('gives alarms no actions unless asked', () => {
    // given
    const stack = new Stack(new App(), 'TestStack');
    new MicroBatchPipeline(stack, 'Test', { sources: { events: sourceProps() } });
    // when
    const alarms = Object.values(
      Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'),
    ).map((a) => a.Properties as AlarmActions);
    // then
    expect(
      alarms.filter((a) => a.AlarmActions !== undefined || a.OKActions !== undefined),
    ).toStrictEqual([]);
  });
});

describe('MicroBatchPipeline alarms', () => {
  test('exposes every alarm of a source by name, the dead-letter alarm included', () => {
    // given
    const { pipeline, template } = pipelineWithTopic();
    // when
    const { alarms } = pipeline.source('events');
    const named = [
      alarms.deadLetters,
      ...[alarms.main, alarms.jobs.slow!].flatMap((f) => [
        f.iteratorAge,
        f.errors,
        f.newVersionErrors,
        f.throttles,
        f.onFailure,
        f.droppedRecords,
      ]),
    ];
    // then
    expect(named.every((a) => a instanceof cloudwatch.Alarm)).toBe(true);
    expect(new Set(named).size).toBe(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length,
    );
    expect(pipeline.source('events').jobFunctions.slow?.alarms).toBe(alarms.jobs.slow);
  });
});
