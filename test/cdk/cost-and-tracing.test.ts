import { Match } from 'aws-cdk-lib/assertions';
import { pipelineProps, problemsOf, synthPipeline } from './pipeline-fixtures';

/** The dashboard body with tokens shown as `<token>`. */
function dashboardBody(template: ReturnType<typeof synthPipeline>['template']): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const parts: unknown[] = dashboard?.Properties.DashboardBody['Fn::Join'][1];
  return parts.map((part) => (typeof part === 'string' ? part : '<token>')).join('');
}

/** The expressions of the cost widget. */
function costExpressions(body: string): string[] {
  const widgets = JSON.parse(body).widgets as {
    properties: { title?: string; metrics?: unknown[][] };
  }[];
  const cost = widgets.find((w) => w.properties.title === 'Cost per 1,000 records (USD)');
  return (cost?.properties.metrics ?? [])
    .flat()
    .filter(
      (item): item is { expression: string } =>
        typeof item === 'object' && item !== null && 'expression' in item,
    )
    .map((item) => item.expression);
}

describe('tracing', () => {
  test('is off unless asked', () => {
    // when
    const { template } = synthPipeline(pipelineProps());
    // then
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn?.Properties.TracingConfig).toBeUndefined();
    expect(fn?.Properties.Environment.Variables.DRIVERLESS_TRACING).toBeUndefined();
  });

  test('turns on active tracing and tells the runtime to record batches', () => {
    // when
    const { template } = synthPipeline(pipelineProps({ tracing: true }));
    // then
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ DRIVERLESS_TRACING: 'true' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            Effect: 'Allow',
          }),
        ]),
      },
    });
  });
});

describe('the cost widget', () => {
  test('prices a source and each named job at us-east-1 arm64 prices by default', () => {
    // when
    const { template } = synthPipeline(
      pipelineProps({
        sources: {
          events: {
            stream: { shardCount: 1 },
            entry: pipelineProps().sources.events!.entry,
            jobs: ['load'],
          },
        },
      }),
    );
    // then
    expect(costExpressions(dashboardBody(template))).toStrictEqual([
      '1000 * (gbs0 * 0.0000133334 + batches0 * 0.2 / 1000000) / records0',
      '1000 * jobGbs0 * 0.0000133334 / jobRecords0',
    ]);
  });

  test('uses the prices given', () => {
    // when
    const { template } = synthPipeline(pipelineProps({ pricing: { perGbSecond: 0.0000166667 } }));
    // then: the request price keeps its default
    expect(costExpressions(dashboardBody(template))).toStrictEqual([
      '1000 * (gbs0 * 0.0000166667 + batches0 * 0.2 / 1000000) / records0',
    ]);
  });

  test.each([
    [{ perGbSecond: 0 }, 'pricing.perGbSecond must be a price greater than 0 (given 0)'],
    [{ perGbSecond: Number.NaN }, 'pricing.perGbSecond must be a price greater than 0 (given NaN)'],
    [
      { perMillionRequests: -0.2 },
      'pricing.perMillionRequests must be a price of 0 or more (given -0.2)',
    ],
  ])('fails synth for the price %o, saying what to change', (pricing, problem) => {
    // then
    expect(problemsOf(pipelineProps({ pricing }))).toStrictEqual([problem]);
  });
});
