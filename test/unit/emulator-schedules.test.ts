/**
 * Scheduled rules on the embedded stack: which AWS::Events::Rule it runs, what each target
 * receives, and the timer that fires them.
 */
import {
  createTemplateResolver,
  type Template,
  type TemplateResource,
} from '../../emulator/intrinsics';
import type { InvokeResult, LocalApp, LocalSchedule } from '../../emulator/model';
import { rateMs, readScheduleRule } from '../../emulator/schedule-rules';
import {
  fillTemplate,
  type ScheduledEvent,
  type ScheduleFiring,
  startSchedules,
  targetInput,
} from '../../emulator/schedules';

const ENV = {
  stackName: 'Shop',
  region: 'us-east-1',
  accountId: '000000000000',
  sqsEndpoint: 'http://127.0.0.1:4566',
};

/** An app running one function, `shop-handler`, as the assembly reader would have it. */
const APP = {
  functions: [{ name: 'shop-handler' }],
} as unknown as LocalApp;

const HANDLER_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:shop-handler';

function read(rule: TemplateResource) {
  const template: Template = { Resources: { Tick: rule } };
  return readScheduleRule('Tick', rule, createTemplateResolver(template, ENV), APP);
}

function ruleOf(properties: Record<string, unknown>): TemplateResource {
  return { Type: 'AWS::Events::Rule', Properties: properties };
}

const EVENT: ScheduledEvent = {
  version: '0',
  id: 'e1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: '2026-12-02T06:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/tick'],
  detail: {},
};

describe('rateMs', () => {
  test.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
  ])('reads %s', (expression, ms) => {
    // then
    expect(rateMs(expression)).toBe(ms);
  });

  test.each(['rate(1 minutes)', 'rate(2 minute)', 'rate(0 minutes)', 'cron(0 12 * * ? *)'])(
    'refuses %s',
    (expression) => {
      // then
      expect(rateMs(expression)).toBeUndefined();
    },
  );
});

describe('readScheduleRule', () => {
  test('reads an enabled rate rule on a local function alias, with its input', () => {
    // when
    const rule = read(
      ruleOf({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [{ Id: 'Target0', Arn: `${HANDLER_ARN}:live`, Input: '{"driverless":"tick"}' }],
      }),
    );
    // then
    expect(rule).toStrictEqual({
      kind: 'schedule',
      schedule: {
        logicalId: 'Tick',
        name: 'Shop-Tick',
        arn: 'arn:aws:events:us-east-1:000000000000:rule/Shop-Tick',
        rateMs: 60_000,
        targets: [
          {
            id: 'Target0',
            functionName: 'shop-handler',
            qualifier: 'live',
            input: { kind: 'constant', value: { driverless: 'tick' } },
          },
        ],
      },
      skippedTargets: [],
    });
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'an event pattern',
      { EventPattern: { source: ['aws.s3'] } },
      'AWS::Events::Rule (event pattern)',
    ],
    [
      'a cron schedule',
      { ScheduleExpression: 'cron(0 12 * * ? *)' },
      'AWS::Events::Rule (cron schedule)',
    ],
    [
      'a disabled rule',
      { ScheduleExpression: 'rate(1 minute)', State: 'DISABLED', Targets: [{ Arn: HANDLER_ARN }] },
      'AWS::Events::Rule (DISABLED)',
    ],
    [
      'only targets not run locally',
      {
        ScheduleExpression: 'rate(1 minute)',
        Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:q' }],
      },
      'AWS::Events::Rule (no target run locally)',
    ],
  ])('skips a rule with %s, as an unknown type', (_, properties, type) => {
    // then
    expect(read(ruleOf(properties))).toStrictEqual({ kind: 'skipped', type });
  });

  test('runs the local targets of a rule and reports the others', () => {
    // when
    const rule = read(
      ruleOf({
        ScheduleExpression: 'rate(1 minute)',
        Targets: [
          { Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:q' },
          { Id: 'f', Arn: HANDLER_ARN },
        ],
      }),
    );
    // then
    expect(rule.kind === 'schedule' && rule.schedule.targets.map((t) => t.id)).toStrictEqual(['f']);
    expect(rule.kind === 'schedule' && rule.skippedTargets).toStrictEqual([
      'AWS::Events::Rule target (sqs)',
    ]);
  });

  test('fails if a constant input is not JSON', () => {
    // then
    expect(() =>
      read(
        ruleOf({
          ScheduleExpression: 'rate(1 minute)',
          Targets: [{ Arn: HANDLER_ARN, Input: '{' }],
        }),
      ),
    ).toThrow('Tick.Properties.Targets[0].Input must be JSON (given {)');
  });
});

describe('targetInput', () => {
  const target = { id: 't', functionName: 'shop-handler' };

  test('fills a transformer template: JSON outside quotes, raw text inside', () => {
    // when
    const input = targetInput(
      {
        ...target,
        input: {
          kind: 'transformer',
          paths: { time: '$.time', rule: '$.resources' },
          template: '{"driverless":"tick","time":<time>,"at":"at <time>","rules":<rule>}',
        },
      },
      EVENT,
    );
    // then
    expect(input).toStrictEqual({
      driverless: 'tick',
      time: '2026-12-02T06:00:00Z',
      at: 'at 2026-12-02T06:00:00Z',
      rules: ['arn:aws:events:us-east-1:000000000000:rule/tick'],
    });
  });

  test('gives the whole event without an input, and a part of it with an input path', () => {
    // then
    expect(targetInput({ ...target, input: { kind: 'event' } }, EVENT)).toBe(EVENT);
    expect(targetInput({ ...target, input: { kind: 'path', path: '$.detail-type' } }, EVENT)).toBe(
      'Scheduled Event',
    );
  });

  test('leaves a placeholder with no path as it is', () => {
    // then
    expect(fillTemplate('"<other>"', { time: '$.time' }, EVENT)).toBe('"<other>"');
  });
});

describe('startSchedules', () => {
  const schedule: LocalSchedule = {
    logicalId: 'Tick',
    name: 'tick',
    arn: 'arn:aws:events:us-east-1:000000000000:rule/tick',
    rateMs: 60_000,
    targets: [
      {
        id: 't',
        functionName: 'shop-handler',
        qualifier: 'live',
        input: {
          kind: 'transformer',
          paths: { time: '$.time' },
          template: '{"driverless":"tick","source":"events","time":<time>}',
        },
      },
    ],
  };
  const ok: InvokeResult = {
    payload: { batchItemFailures: [] },
    executedVersion: '1',
    durationMs: 1,
  };

  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 2, 6, 0, 0, 400) }));
  afterEach(() => jest.useRealTimers());

  test('invokes each target at the rule rate, first one interval after start', async () => {
    // given
    const calls: unknown[][] = [];
    const running = startSchedules([schedule], {
      invoke: async (...call) => {
        calls.push(call);
        return ok;
      },
      region: 'us-east-1',
      accountId: '000000000000',
    });
    // when
    await jest.advanceTimersByTimeAsync(59_999);
    const before = calls.length;
    await jest.advanceTimersByTimeAsync(60_001);
    await running.stop();
    // then
    expect(before).toBe(0);
    expect(calls).toStrictEqual([
      [
        'shop-handler',
        'live',
        { driverless: 'tick', source: 'events', time: '2026-12-02T06:01:00Z' },
      ],
      [
        'shop-handler',
        'live',
        { driverless: 'tick', source: 'events', time: '2026-12-02T06:02:00Z' },
      ],
    ]);
  });

  test('fires at the interval asked instead of the rate, and reports each firing', async () => {
    // given
    const firings: ScheduleFiring[] = [];
    const running = startSchedules([schedule], {
      invoke: async () => ok,
      region: 'us-east-1',
      accountId: '000000000000',
      intervalMs: 1_000,
      onFiring: (firing) => firings.push(firing),
    });
    // when
    await jest.advanceTimersByTimeAsync(3_000);
    await running.stop();
    // then
    expect(
      firings.map((f) => [f.firedAt - Date.UTC(2026, 11, 2, 6, 0, 0, 400), f.result]),
    ).toStrictEqual([
      [1_000, ok],
      [2_000, ok],
      [3_000, ok],
    ]);
  });

  test('stops firing once stopped', async () => {
    // given
    let calls = 0;
    const running = startSchedules([schedule], {
      invoke: async () => {
        calls += 1;
        return ok;
      },
      region: 'us-east-1',
      accountId: '000000000000',
      intervalMs: 1_000,
    });
    await jest.advanceTimersByTimeAsync(1_000);
    // when
    await running.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    // then
    expect(calls).toBe(1);
  });

  test('fails if the interval is not positive', () => {
    // then
    expect(() =>
      startSchedules([schedule], {
        invoke: async () => ok,
        region: 'us-east-1',
        accountId: '000000000000',
        intervalMs: 0,
      }),
    ).toThrow('schedule interval must be more than 0 ms (given 0)');
  });
});
