import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import { problemsOf, sourceProps } from './pipeline-fixtures';

const IMPORTED = 'arn:aws:kinesis:us-east-1:111122223333:stream/imported';

/** The `driverless:redriveWindow` warnings of a pipeline over `stream`. */
function redriveWarnings(stream: (stack: Stack) => kinesis.IStream): string[] {
  const stack = new Stack(new App(), 'TestStack');
  new MicroBatchPipeline(stack, 'Test', {
    sources: { events: sourceProps({ stream: stream(stack), shardCount: 1 }) },
  });
  return Annotations.fromStack(stack)
    .findWarning('/TestStack/Test', Match.stringLikeRegexp('redriveWindow'))
    .map((w) => String(w.entry.data));
}

describe('stream retention and the redrive window', () => {
  test('fails if a created stream drops records before a pointer to them can be redriven', () => {
    // when
    const problems = problemsOf({
      sources: {
        events: sourceProps({ stream: { shardCount: 1, retentionPeriod: Duration.hours(24) } }),
      },
    });
    // then
    expect(problems).toStrictEqual([
      'sources.events: stream retention (1 day) must be at least maxRecordAge (1 day) plus redriveWindow (1 day), 2 days: ' +
        'the on-failure queue receives only a pointer, and redrive reads the records from the stream, which drops them at the end of retention; ' +
        "raise sources.events.stream.retentionPeriod to 2 days, shorten redriveWindow, or set onFailureDestination: 'bucket', which keeps the records themselves",
    ]);
  });

  test('suggests the longest maxRecordAge that leaves the redrive window', () => {
    // when
    const problems = problemsOf({
      sources: {
        events: sourceProps({
          stream: { shardCount: 1, retentionPeriod: Duration.days(3) },
          maxRecordAge: Duration.days(7),
        }),
      },
    });
    // then
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      'raise sources.events.stream.retentionPeriod to 8 days, lower sources.events.maxRecordAge to 2 days,',
    );
  });

  test('accepts 24-hour retention when maxRecordAge and redriveWindow fit in it', () => {
    // when
    const problems = problemsOf({
      redriveWindow: Duration.hours(18),
      sources: {
        events: sourceProps({
          stream: { shardCount: 1, retentionPeriod: Duration.hours(24) },
          maxRecordAge: Duration.hours(6),
        }),
      },
    });
    // then
    expect(problems).toStrictEqual([]);
  });

  test('does not check retention when the on-failure bucket keeps the records', () => {
    // when
    const problems = problemsOf({
      onFailureDestination: 'bucket',
      sources: {
        events: sourceProps({ stream: { shardCount: 1, retentionPeriod: Duration.hours(24) } }),
      },
    });
    // then
    expect(problems).toStrictEqual([]);
  });

  test('warns that an imported stream’s retention is unknown, with what it needs', () => {
    // when
    const warnings = redriveWarnings((stack) =>
      kinesis.Stream.fromStreamArn(stack, 'Imported', IMPORTED),
    );
    // then
    expect(warnings).toStrictEqual([
      expect.stringMatching(
        /^sources\.events\.stream: its retention is unknown to the pipeline; make sure it is at least maxRecordAge \(1 day\) plus redriveWindow \(1 day\), 2 days/,
      ),
    ]);
  });

  test('warns, without failing, about a stream of the app whose retention is too short', () => {
    // when
    const warnings = redriveWarnings(
      (stack) => new kinesis.Stream(stack, 'Defined', { shardCount: 1 }),
    );
    // then
    expect(warnings).toStrictEqual([
      expect.stringMatching(
        /^sources\.events: stream retention \(1 day\) must be at least .*; raise the stream's retention to 2 days,/,
      ),
    ]);
  });

  test('says nothing about a stream of the app that keeps records long enough', () => {
    // when
    const warnings = redriveWarnings(
      (stack) =>
        new kinesis.Stream(stack, 'Defined', {
          shardCount: 1,
          retentionPeriod: Duration.days(2),
        }),
    );
    // then
    expect(warnings).toStrictEqual([]);
  });
});
