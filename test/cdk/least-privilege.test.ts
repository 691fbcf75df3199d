import type { Template } from 'aws-cdk-lib/assertions';
import {
  pipelineProps,
  referencedLogicalIds,
  sourceProps,
  synthPipeline,
} from './pipeline-fixtures';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every role policy, with the logical IDs it names and its resource text. */
function statements(
  template: Template,
): Array<{ actions: string[]; ids: string[]; resource: string }> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
      actions: [s.Action].flat(),
      ids: [...referencedLogicalIds(s.Resource)],
      resource: JSON.stringify(s.Resource),
    })),
  );
}

interface PolicyStatement {
  readonly Effect: string;
  readonly Principal: unknown;
  readonly Action: string;
  readonly Condition: {
    readonly ArnLike: { readonly 'aws:SourceArn': { 'Fn::GetAtt': string[] } };
  };
}

describe('least privilege', () => {
  let queues: Template;
  let buckets: Template;
  let state: Template;
  beforeAll(() => {
    state = synthPipeline(
      pipelineProps({
        state: true,
        sources: {
          events: sourceProps({ isolateJobs: ['slow'] }),
          audit: sourceProps({ state: false }),
        },
      }),
    ).template;
    queues = synthPipeline(
      pipelineProps({
        checkpoints: true,
        sources: { events: sourceProps({ isolateJobs: ['slow'] }) },
      }),
    ).template;
    buckets = synthPipeline(
      pipelineProps({
        onFailureDestination: 'bucket',
        deadLetterDestination: 'bucket',
        sources: { events: sourceProps({ isolateJobs: ['slow'] }) },
      }),
    ).template;
  });

  test('grants each function exactly the two DynamoDB calls the cursors make on the checkpoint table', () => {
    // when
    const onTable = statements(queues).filter((s) =>
      s.ids.some((id) => id.startsWith('TestCheckpoints')),
    );
    // then
    expect(onTable.map((s) => s.actions)).toStrictEqual([
      ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
    ]);
  });

  test('grants each stateful function item reads and writes, Query and BatchGetItem on the state table, nothing more', () => {
    // when
    const onTable = statements(state).filter((s) =>
      s.ids.some((id) => /^TestState[0-9A-F]{8}$/.test(id)),
    );
    // then
    const calls = [
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ];
    expect(onTable.map((s) => s.actions)).toStrictEqual([calls, calls]);
  });

  test('lets functions put dead-letter payloads only under dead-letters/', () => {
    // when
    const puts = statements(queues).filter((s) => s.actions.includes('s3:PutObject'));
    // then
    expect(puts).toHaveLength(2);
    expect(puts.filter((s) => !s.resource.endsWith('"/dead-letters/*"]]}'))).toStrictEqual([]);
  });

  test('lets functions put dead letters under dead-letters/ and Lambda on-failure records under aws/lambda/', () => {
    // when
    const puts = statements(buckets)
      .filter((s) => s.actions.includes('s3:PutObject'))
      .map((s) => [
        s.ids[0]?.replace(/[0-9A-F]{8}$/, ''),
        JSON.parse(s.resource)['Fn::Join'][1][1],
      ]);
    // then
    expect(puts.sort()).toStrictEqual(
      [
        ['TestEventsDeadLetters', '/dead-letters/*'],
        ['TestEventsDeadLetters', '/dead-letters/*'],
        ['TestEventsMainOnFailure', '/aws/lambda/*'],
        ['TestEventsJobSlowOnFailure', '/aws/lambda/*'],
      ].sort(),
    );
  });

  test('logs access to every failure bucket in the pipeline’s access-log bucket, under the bucket’s path', () => {
    // when
    const logging = Object.entries(buckets.findResources('AWS::S3::Bucket'))
      .filter(([id]) => !id.startsWith('TestAccessLogs'))
      .map(([, b]) => b.Properties.LoggingConfiguration);
    // then
    expect(logging.sort((a, b) => a.LogFilePrefix.localeCompare(b.LogFilePrefix))).toStrictEqual([
      {
        DestinationBucketName: { Ref: expect.stringMatching(/^TestAccessLogs/) },
        LogFilePrefix: 'Test/Events/DeadLetters/',
      },
      {
        DestinationBucketName: { Ref: expect.stringMatching(/^TestAccessLogs/) },
        LogFilePrefix: 'Test/Events/JobSlow/OnFailure/',
      },
      {
        DestinationBucketName: { Ref: expect.stringMatching(/^TestAccessLogs/) },
        LogFilePrefix: 'Test/Events/Main/OnFailure/',
      },
    ]);
  });

  test('lets only S3 log delivery from the failure buckets write to the access-log bucket', () => {
    // given
    const [policy] = Object.entries(buckets.findResources('AWS::S3::BucketPolicy'))
      .filter(([id]) => id.startsWith('TestAccessLogs'))
      .map(([, p]) => p.Properties.PolicyDocument.Statement as PolicyStatement[]);
    // when
    const allows = policy!.filter((s) => s.Effect === 'Allow');
    // then
    expect(
      allows
        .map((s) => [s.Principal, s.Action, s.Condition.ArnLike['aws:SourceArn']['Fn::GetAtt'][0]])
        .sort(),
    ).toStrictEqual([
      [
        { Service: 'logging.s3.amazonaws.com' },
        's3:PutObject',
        expect.stringMatching(/^TestEventsDeadLetters/),
      ],
      [
        { Service: 'logging.s3.amazonaws.com' },
        's3:PutObject',
        expect.stringMatching(/^TestEventsJobSlowOnFailure/),
      ],
      [
        { Service: 'logging.s3.amazonaws.com' },
        's3:PutObject',
        expect.stringMatching(/^TestEventsMainOnFailure/),
      ],
    ]);
  });
});

describe('least privilege of the archive', () => {
  let archived: Template;
  beforeAll(() => {
    archived = synthPipeline(
      pipelineProps({
        archive: true,
        sources: { events: sourceProps({ isolateJobs: ['slow'] }), other: sourceProps() },
      }),
    ).template;
  });

  test("lets each delivery stream write only under its own source's records/ and errors/", () => {
    // when
    const puts = statements(archived)
      .filter((s) => s.actions.includes('s3:PutObject'))
      .filter((s) => s.ids.some((id) => id.startsWith('TestArchiveBucket')))
      .map((s) => s.resource.match(/"\/(records|errors)\/\w+\/\*"/g));
    // then
    expect(puts).toStrictEqual([
      ['"/records/events/*"', '"/errors/events/*"'],
      ['"/records/other/*"', '"/errors/other/*"'],
    ]);
  });

  test("lets functions only get objects of their own source's records from the archive", () => {
    // when
    const reads = statements(archived)
      .filter((s) => s.ids.some((id) => id.startsWith('TestArchiveBucket')))
      .filter((s) => !s.actions.includes('s3:PutObject') && !s.actions.includes('s3:ListBucket'));
    // then: the main and the isolated function of events, the main function of other
    expect(
      reads.map((s) => [s.actions, s.resource.match(/"\/records\/\w+\/\*"/)?.[0]]),
    ).toStrictEqual([
      [['s3:GetObject'], '"/records/events/*"'],
      [['s3:GetObject'], '"/records/events/*"'],
      [['s3:GetObject'], '"/records/other/*"'],
    ]);
  });
});
