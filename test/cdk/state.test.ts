import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  pipelineProps,
  problemsOf,
  referencedLogicalIds,
  sourceProps,
  synthPipeline,
} from './pipeline-fixtures';

/** The logical IDs of `template`'s resources of `type` whose ID starts with `prefix`. */
function idsOf(template: Template, type: string, prefix = ''): string[] {
  return Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
}

describe('state: true', () => {
  let template: Template;
  beforeAll(() => {
    template = synthPipeline(
      pipelineProps({
        state: true,
        sources: { events: sourceProps({ isolateJobs: ['slow'] }), orders: sourceProps() },
      }),
    ).template;
  });

  test('creates one state table with string keys pk and sk, TTL expiresAt, on demand, encrypted, recoverable', () => {
    // when
    const tables = template.findResources('AWS::DynamoDB::Table');
    // then
    expect(Object.keys(tables)).toStrictEqual([expect.stringMatching(/^TestState[0-9A-F]{8}$/)]);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('retains the state table when it leaves the stack, as the checkpoint table', () => {
    // then
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('names the state table in DRIVERLESS_STATE_TABLE of every function', () => {
    // when
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.DRIVERLESS_SOURCE !== undefined,
    );
    // then
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.DRIVERLESS_STATE_TABLE).toStrictEqual({
        Ref: expect.stringMatching(/^TestState[0-9A-F]{8}$/),
      });
    }
  });

  test('ticks every function through its live alias every minute with the tick event of its source', () => {
    // when
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    // then
    expect(rules).toHaveLength(3);
    for (const rule of rules) {
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
      expect(rule.Properties.State).toBe('ENABLED');
      const [target] = rule.Properties.Targets;
      expect(rule.Properties.Targets).toHaveLength(1);
      expect([...referencedLogicalIds(target.Arn)]).toStrictEqual([
        expect.stringMatching(/^Test(Events|Orders)(Main|JobSlow)LiveAlias[0-9A-F]{8}$/),
      ]);
      expect(target.InputTransformer.InputPathsMap).toStrictEqual({ time: '$.time' });
    }
    const templates = rules.map((r) => r.Properties.Targets[0].InputTransformer.InputTemplate);
    expect(templates.sort()).toStrictEqual([
      '{"driverless":"tick","source":"events","time":<time>}',
      '{"driverless":"tick","source":"events","time":<time>}',
      '{"driverless":"tick","source":"orders","time":<time>}',
    ]);
  });

  test('lets EventBridge invoke only the aliases, each from its own rule', () => {
    // when
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );
    // then
    expect(permissions).toHaveLength(3);
    for (const permission of permissions) {
      expect(permission.Properties.Action).toBe('lambda:InvokeFunction');
      expect([...referencedLogicalIds(permission.Properties.FunctionName)]).toStrictEqual([
        expect.stringMatching(/LiveAlias[0-9A-F]{8}$/),
      ]);
      expect([...referencedLogicalIds(permission.Properties.SourceArn)]).toStrictEqual([
        expect.stringMatching(/StateTicksRule[0-9A-F]{8}$/),
      ]);
    }
  });

  test('drops a tick that waited as long as the interval, as the next one replaces it', () => {
    // then
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 60 } })],
    });
  });
});

describe('state per source', () => {
  test('gives only the stateful source the table and ticks', () => {
    // given
    const { template } = synthPipeline(
      pipelineProps({
        sources: { views: sourceProps({ state: true }), clicks: sourceProps() },
      }),
    );
    // when
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) => fn.Properties.Environment?.Variables ?? {},
    );
    // then
    expect(idsOf(template, 'AWS::DynamoDB::Table')).toHaveLength(1);
    expect(
      variables
        .filter((v) => v.DRIVERLESS_STATE_TABLE !== undefined)
        .map((v) => v.DRIVERLESS_SOURCE),
    ).toStrictEqual(['views']);
    expect(idsOf(template, 'AWS::Events::Rule')).toStrictEqual([
      expect.stringMatching(/^TestViewsMainStateTicksRule/),
    ]);
  });

  test('lets a source of a stateful pipeline opt out', () => {
    // given
    const { template } = synthPipeline(
      pipelineProps({
        state: true,
        sources: { views: sourceProps(), clicks: sourceProps({ state: false }) },
      }),
    );
    // then
    expect(idsOf(template, 'AWS::Events::Rule')).toStrictEqual([
      expect.stringMatching(/^TestViewsMainStateTicksRule/),
    ]);
  });

  test('creates no state table, variable or rule by default', () => {
    // given
    const { template, pipeline } = synthPipeline(pipelineProps());
    // then
    expect(pipeline.stateTable).toBeUndefined();
    expect(idsOf(template, 'AWS::Events::Rule')).toStrictEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DRIVERLESS_STATE_TABLE: Match.absent() }) },
    });
  });
});

describe('stateTickInterval', () => {
  test('sets the rate of every tick rule', () => {
    // given
    const { template } = synthPipeline(
      pipelineProps({ state: true, stateTickInterval: Duration.minutes(5) }),
    );
    // then
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 300 } })],
    });
  });

  test.each([
    [Duration.seconds(30), 'Duration.minutes(1) (given 30 seconds)'],
    [Duration.seconds(90), 'Duration.minutes(2) (given 1 minute 30 seconds)'],
    [Duration.days(2), 'Duration.minutes(1440) (given 2 days)'],
  ])('fails if the interval is %s', (interval, tail) => {
    // when
    const problems = problemsOf(pipelineProps({ state: true, stateTickInterval: interval }));
    // then
    expect(problems).toStrictEqual([
      `stateTickInterval must be whole minutes between 1 minute and 1 day, e.g. ${tail}`,
    ]);
  });

  test('fails if it is given without a stateful source', () => {
    // when
    const problems = problemsOf(pipelineProps({ stateTickInterval: Duration.minutes(2) }));
    // then
    expect(problems).toStrictEqual([
      'stateTickInterval needs state: set state: true on the pipeline or on a source, or remove stateTickInterval (given 2 minutes with no stateful source)',
    ]);
  });

  test('accepts one day', () => {
    // then
    expect(
      problemsOf(pipelineProps({ state: true, stateTickInterval: Duration.days(1) })),
    ).toStrictEqual([]);
  });
});
