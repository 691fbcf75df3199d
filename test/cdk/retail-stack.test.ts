import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { referencedLogicalIds, retailStack } from './pipeline-fixtures';

// One synthesis shared by every test: bundling makes each synth cost seconds.
let template: Template;
beforeAll(() => {
  template = Template.fromStack(retailStack());
});

const PRODUCT_VIEWS_STREAM = 'RetailProductViewsStream7CD496C1';
const ORDERS_STREAM = 'RetailOrdersStream85C6903B';
const POPULARITY_CONSUMER = 'RetailProductViewsJobPopularityConsumer4FE81555';

/** The logical ID of the one resource of `type` matching `props`. */
function logicalIdOf(type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0]!;
}

function functionWithEnvironment(variables: Record<string, unknown>): string {
  return logicalIdOf('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike(variables) },
  });
}

/** Logical IDs of every resource of `type`. */
function logicalIdsOf(type: string): string[] {
  return Object.keys(template.findResources(type));
}

/**
 * The example's sources, each with the `DRIVERLESS_JOBS` of its functions (`undefined` for a
 * main function running every job). The tests check these per source and function, and hold the
 * rest of the stack to one-per-function rules, so a source added to the example (as
 * `driverless new --wire` does) keeps them passing.
 */
const EXAMPLE_FUNCTIONS = {
  productViews: ['!popularity', 'popularity'],
  orders: [undefined],
} as const;

/** The logical IDs of the functions of `source`. */
function functionsOf(source: string): string[] {
  return Object.keys(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ DRIVERLESS_SOURCE: source }) } },
    }),
  );
}

/** `FunctionName` of a mapping that targets `<function>:live` through the alias. */
function liveAliasOf(functionLogicalId: string): Record<string, unknown> {
  const alias = logicalIdOf('AWS::Lambda::Alias', { FunctionName: { Ref: functionLogicalId } });
  return {
    'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: alias }] }] }, ':live']],
  };
}

/** Every logical ID the role policy of the function with these variables refers to. */
function policyReferencesOf(variables: Record<string, unknown>): Set<string> {
  const fn = template.toJSON().Resources[functionWithEnvironment(variables)];
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  );
  expect(policies).toHaveLength(1);
  return referencedLogicalIds(policies[0]!.Properties.PolicyDocument);
}

describe('RetailStack', () => {
  test('creates one main function per source and one per isolated job', () => {
    for (const [source, jobs] of Object.entries(EXAMPLE_FUNCTIONS)) {
      // then
      expect(functionsOf(source)).toHaveLength(jobs.length);
      for (const job of jobs) {
        functionWithEnvironment({
          DRIVERLESS_SOURCE: source,
          DRIVERLESS_JOBS: job ?? Match.absent(),
        });
      }
    }
  });

  test('maps the productViews stream to the live alias of its main function', () => {
    // given
    const main = functionWithEnvironment({
      DRIVERLESS_SOURCE: 'productViews',
      DRIVERLESS_JOBS: '!popularity',
    });
    // then
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [PRODUCT_VIEWS_STREAM, 'Arn'] },
      FunctionName: liveAliasOf(main),
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
    });
  });

  test('maps the orders stream to the live alias of its main function', () => {
    // given
    const main = functionWithEnvironment({ DRIVERLESS_SOURCE: 'orders' });
    // then
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ORDERS_STREAM, 'Arn'] },
      FunctionName: liveAliasOf(main),
    });
  });

  test('reads the isolated popularity job through its own enhanced fan-out consumer', () => {
    // given
    const job = functionWithEnvironment({
      DRIVERLESS_SOURCE: 'productViews',
      DRIVERLESS_JOBS: 'popularity',
    });
    // then
    template.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
      StreamARN: { 'Fn::GetAtt': [PRODUCT_VIEWS_STREAM, 'Arn'] },
      ConsumerName: 'Retail-productViews-popularity',
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [POPULARITY_CONSUMER, 'ConsumerARN'] },
      FunctionName: liveAliasOf(job),
    });
  });

  test('maps each function of the example through one mapping to its live alias', () => {
    for (const [source, jobs] of Object.entries(EXAMPLE_FUNCTIONS)) {
      for (const job of jobs) {
        // given
        const fn = functionWithEnvironment({
          DRIVERLESS_SOURCE: source,
          DRIVERLESS_JOBS: job ?? Match.absent(),
        });
        // when
        const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
          Properties: { FunctionName: liveAliasOf(fn) },
        });
        // then
        expect(Object.keys(mappings)).toHaveLength(1);
      }
    }
  });

  test('gives every mapping partial batch responses, bisect, bounded retries and age, and an on-failure queue', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      StartingPosition: 'TRIM_HORIZON',
      MetricsConfig: { Metrics: ['EventCount'] },
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailure'), 'Arn'] } },
      },
    });
  });

  test('pins the mapping logical IDs, because a moved mapping is replaced and restarts its stream position', () => {
    // when
    const mappings = logicalIdsOf('AWS::Lambda::EventSourceMapping');
    // then: the example's mappings keep these IDs (an added source brings its own mapping)
    expect(mappings).toStrictEqual(
      expect.arrayContaining([
        'RetailOrdersMainLiveAliasKinesisEventSourceDriverlessRetailOrdersStream7E06A5A49C320BB8',
        'RetailProductViewsJobPopularityLiveAliasKinesisConsumerEventSourceDriverlessRetailProductViewsJobPopularityConsumer90F596D8AA9CD71D',
        'RetailProductViewsMainLiveAliasKinesisEventSourceDriverlessRetailProductViewsStreamB0C16AA0B37CD46B',
      ]),
    );
  });

  test('publishes every function as a version behind the live alias', () => {
    // then: liveAliasOf finds exactly one alias of each function
    for (const fn of logicalIdsOf('AWS::Lambda::Function')) liveAliasOf(fn);
    template.resourceCountIs('AWS::Lambda::Alias', logicalIdsOf('AWS::Lambda::Function').length);
    template.allResourcesProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('CurrentVersion'), 'Version'] },
    });
  });

  test('shifts each alias with a canary deployment that rolls back on failure and on errors of the new version only', () => {
    // then: one deployment group per alias
    template.resourceCountIs(
      'AWS::CodeDeploy::DeploymentGroup',
      logicalIdsOf('AWS::Lambda::Alias').length,
    );
    template.allResourcesProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [{ Name: { Ref: Match.stringLikeRegexp('NewVersionErrorsAlarm') } }],
      },
    });
  });

  test('gates deployments on the errors of the version the alias is shifted to', () => {
    // given
    const main = functionWithEnvironment({ DRIVERLESS_SOURCE: 'orders' });
    const version = logicalIdOf('AWS::Lambda::Version', { FunctionName: { Ref: main } });
    // then
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 1,
      Dimensions: [
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [version, 'Version'] } },
        { Name: 'FunctionName', Value: { Ref: main } },
        { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: main }, ':live']] } },
      ],
    });
  });

  test('refers to no alias from any alarm, which would close a cycle through its update policy', () => {
    // given
    const aliases = new Set(Object.keys(template.findResources('AWS::Lambda::Alias')));
    // when
    const referenced = Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap(
      (alarm) => [...referencedLogicalIds(alarm)],
    );
    // then
    expect(referenced.filter((id) => aliases.has(id))).toStrictEqual([]);
  });

  test('alarms on iterator age of each live alias', () => {
    // given
    const main = functionWithEnvironment({ DRIVERLESS_SOURCE: 'orders' });
    // then
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 60_000,
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: main } },
        { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: main }, ':live']] } },
      ],
    });
  });

  test('alarms on errors and throttles of each live alias', () => {
    // then
    for (const metric of ['Errors', 'Throttles']) {
      const alarms = template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          MetricName: metric,
          Dimensions: [
            { Name: 'FunctionName' },
            { Name: 'Resource', Value: { 'Fn::Join': ['', [Match.anyValue(), ':live']] } },
          ],
        },
      });
      expect(Object.keys(alarms)).toHaveLength(logicalIdsOf('AWS::Lambda::Alias').length);
    }
  });

  test('alarms on dead-letter and on-failure queue depth and on dropped records', () => {
    // when
    const depth = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' },
    });
    const dropped = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: {
        MetricName: 'DroppedEventCount',
        Dimensions: [
          { Name: 'EventSourceMappingUUID', Value: { Ref: Match.stringLikeRegexp('EventSource') } },
        ],
      },
    });
    // then: one depth alarm per queue (a dead-letter queue per source, an on-failure queue per
    // function), one dropped-records alarm per mapping
    expect(Object.keys(depth)).toHaveLength(logicalIdsOf('AWS::SQS::Queue').length);
    expect(Object.keys(dropped)).toHaveLength(
      logicalIdsOf('AWS::Lambda::EventSourceMapping').length,
    );
  });

  test('lets the productViews main function touch only its stream, failure queues, dead-letter payload bucket, log group, the state table and the tables', () => {
    // when
    const references = policyReferencesOf({
      DRIVERLESS_SOURCE: 'productViews',
      DRIVERLESS_JOBS: '!popularity',
    });
    // then
    expect([...references].sort()).toStrictEqual(
      [
        'Conversions506C535E',
        'Popularity5AD838AA',
        'Recommendations9D8B90D0',
        'RetailCheckpoints89B8ED46',
        'RetailState4C7A5B6C',
        'TrendingE7545EF2',
        'RetailProductViewsDeadLetterPayloads8A7A4731',
        'RetailProductViewsDeadLetters822973E6',
        'RetailProductViewsMainLogsBEEEA98F',
        'RetailProductViewsMainOnFailureB4C0C6BC',
        PRODUCT_VIEWS_STREAM,
      ].sort(),
    );
  });

  test('lets the isolated job touch only its consumer, stream, failure queues, dead-letter payload bucket, log group, the state table and the tables', () => {
    // when
    const references = policyReferencesOf({ DRIVERLESS_JOBS: 'popularity' });
    // then
    expect([...references].sort()).toStrictEqual(
      [
        'Conversions506C535E',
        'Popularity5AD838AA',
        'Recommendations9D8B90D0',
        'RetailCheckpoints89B8ED46',
        'RetailState4C7A5B6C',
        'TrendingE7545EF2',
        'RetailProductViewsDeadLetterPayloads8A7A4731',
        'RetailProductViewsDeadLetters822973E6',
        'RetailProductViewsJobPopularityLogs8BD79A4B',
        'RetailProductViewsJobPopularityOnFailure8D18CDEF',
        POPULARITY_CONSUMER,
        PRODUCT_VIEWS_STREAM,
      ].sort(),
    );
  });

  test('lets the orders function touch only its stream, failure queues, dead-letter payload bucket, log group, the state table and the tables', () => {
    // when
    const references = policyReferencesOf({ DRIVERLESS_SOURCE: 'orders' });
    // then
    expect([...references].sort()).toStrictEqual(
      [
        'Conversions506C535E',
        'Popularity5AD838AA',
        'Recommendations9D8B90D0',
        'RetailCheckpoints89B8ED46',
        'RetailState4C7A5B6C',
        'TrendingE7545EF2',
        'RetailOrdersDeadLetterPayloadsB4E0C1A7',
        'RetailOrdersDeadLetters4D38D5A3',
        'RetailOrdersMainLogs0377B2F1',
        'RetailOrdersMainOnFailureC6DC9C5A',
        ORDERS_STREAM,
      ].sort(),
    );
  });

  test('ticks every function of the example: trending and conversions need their windows closed on quiet streams', () => {
    // then
    template.resourceCountIs('AWS::Events::Rule', logicalIdsOf('AWS::Lambda::Alias').length);
  });

  test('creates KMS-encrypted streams with the example shard counts', () => {
    // then
    for (const [name, shards] of [
      ['product-views', 2],
      ['orders', 1],
    ] as const) {
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        Name: name,
        ShardCount: shards,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      });
    }
  });

  test('creates on-demand, recoverable, encrypted result tables', () => {
    // then
    for (const keys of [
      [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'productId', KeyType: 'RANGE' },
      ],
      [
        { AttributeName: 'productId', KeyType: 'HASH' },
        { AttributeName: 'minute', KeyType: 'RANGE' },
      ],
      [
        { AttributeName: 'productId', KeyType: 'HASH' },
        { AttributeName: 'windowEnd', KeyType: 'RANGE' },
      ],
      [{ AttributeName: 'productId', KeyType: 'HASH' }],
    ]) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keys,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
  });

  test('builds every function for Node.js 24 on arm64 with the pipeline environment', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          DRIVERLESS_PIPELINE: 'Retail',
          DRIVERLESS_DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('DeadLetters') },
          POWERTOOLS_SERVICE_NAME: 'Retail',
          POWERTOOLS_METRICS_NAMESPACE: 'Driverless',
          NODE_OPTIONS: '--enable-source-maps',
          RECOMMENDATIONS_TABLE: { Ref: 'Recommendations9D8B90D0' },
          POPULARITY_TABLE: { Ref: 'Popularity5AD838AA' },
        }),
      },
    });
  });

  test('gives every function its own log group with one month of retention', () => {
    // then
    template.resourceCountIs('AWS::Logs::LogGroup', logicalIdsOf('AWS::Lambda::Function').length);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.allResourcesProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('Logs') } },
    });
  });

  test('keeps failures in encrypted, SSL-only queues for 14 days', () => {
    // then
    // a dead-letter queue per source, an on-failure queue per function
    const sources = new Set(
      Object.values(template.findResources('AWS::Lambda::Function')).map(
        (fn) => fn.Properties.Environment.Variables.DRIVERLESS_SOURCE,
      ),
    );
    template.resourceCountIs(
      'AWS::SQS::Queue',
      sources.size + logicalIdsOf('AWS::Lambda::Function').length,
    );
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });

  test('draws per-job widgets from the runtime metrics on the dashboard', () => {
    // when
    const metrics = dashboardMetrics();
    // then
    for (const [source, job] of [
      ['productViews', 'recommendations'],
      ['productViews', 'popularity'],
      ['orders', 'recommendations'],
    ]) {
      for (const name of ['JobRecords', 'JobFailedRecords', 'JobDuration']) {
        expect(metrics).toContainEqual([
          'Driverless',
          name,
          'Job',
          job,
          'Source',
          source,
          'service',
          'Retail',
        ]);
      }
    }
  });

  test('traces every function, as the example shows tracing on', () => {
    // then
    template.allResourcesProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ DRIVERLESS_TRACING: 'true' }) },
    });
  });

  test('draws what 1,000 records cost per source and per job', () => {
    // when
    const costs = dashboardWidgets().filter((w) => w.title === 'Cost per 1,000 records (USD)');
    // then: one widget per source; jobs drawn with their GB-seconds over their records
    expect(costs).toHaveLength(2);
    const metrics = costs.flatMap((widget) => widget.metrics.map(stringsOf));
    for (const [source, job] of [
      ['productViews', 'recommendations'],
      ['productViews', 'popularity'],
      ['orders', 'recommendations'],
    ]) {
      expect(metrics).toContainEqual([
        'Driverless',
        'JobGBSeconds',
        'Job',
        job,
        'Source',
        source,
        'service',
        'Retail',
      ]);
    }
  });

  test('titles the per-source figures per function when a source has several', () => {
    // when
    const titles = dashboardWidgets()
      .map((w) => w.title)
      .filter((t) => t.startsWith('Records handled'));
    // then
    expect(titles).toStrictEqual([
      'Records handled and dead letters, per function',
      'Records handled and dead letters',
    ]);
  });

  test('draws per-source figures once per function, never added up over functions', () => {
    // when
    const metrics = dashboardWidgets()
      .filter((widget) => widget.title.startsWith('Records handled'))
      .flatMap((widget) => widget.metrics.map(stringsOf))
      .filter(([, name]) => name === 'BatchRecords' || name === 'DeadLetters');
    // then
    const line = (name: string, source: string) => [
      'Driverless',
      name,
      'FunctionName',
      '<token>',
      'Source',
      source,
      'service',
      'Retail',
    ];
    expect(metrics).toStrictEqual([
      line('BatchRecords', 'productViews'),
      line('DeadLetters', 'productViews'),
      line('BatchRecords', 'productViews'),
      line('DeadLetters', 'productViews'),
      line('BatchRecords', 'orders'),
      line('DeadLetters', 'orders'),
    ]);
  });
});

describe('RetailStack stages', () => {
  test('names the stack and the streams after the stage, so two stages share an account', () => {
    // given: `cdk deploy -c stage=test`, then `-c stage=prod`
    const stacks = ['test', 'prod'].map((stage) => retailStack(new App(), { stage }));
    // when
    const names = stacks.map((stack) => [
      stack.stackName,
      ...Object.values(Template.fromStack(stack).findResources('AWS::Kinesis::Stream')).map(
        (r) => r.Properties.Name,
      ),
    ]);
    // then
    expect(names).toStrictEqual([
      ['DriverlessRetail-test', 'product-views-test', 'orders-test'],
      ['DriverlessRetail-prod', 'product-views-prod', 'orders-prod'],
    ]);
  });

  test('deletes its named streams with the stack, so it deploys again after cdk destroy', () => {
    // then
    template.allResources('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  test('synthesizes without warnings', () => {
    // when
    const warnings = Annotations.fromStack(retailStack()).findWarning('*', Match.anyValue());
    // then
    expect(warnings.map((w) => `${w.id}: ${w.entry.data}`)).toStrictEqual([]);
  });

  test('fails if the stage cannot be part of a stack or stream name', () => {
    // then
    expect(() => retailStack(new App(), { stage: 'prod_eu' })).toThrow(
      "RetailStack 'DriverlessRetail': stage must be 1 to 32 letters, digits and '-', starting with a letter (given 'prod_eu')",
    );
  });
});

/** The dashboard's widgets, tokens shown as `<token>`. */
function dashboardWidgets(): Array<{ title: string; metrics: unknown[][] }> {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const parts: unknown[] = dashboards[0]!.Properties.DashboardBody['Fn::Join'][1];
  const body = JSON.parse(
    parts.map((part) => (typeof part === 'string' ? part : '<token>')).join(''),
  );
  return body.widgets.map((widget: { properties: { title?: string; metrics?: unknown[][] } }) => ({
    title: widget.properties.title ?? '',
    metrics: widget.properties.metrics ?? [],
  }));
}

/** Every metric of the dashboard as `[namespace, name, ...dimensions]`, tokens shown as `<token>`. */
function dashboardMetrics(): string[][] {
  return dashboardWidgets().flatMap((widget) => widget.metrics.map(stringsOf));
}

function stringsOf(metric: unknown[]): string[] {
  return metric.filter((item): item is string => typeof item === 'string');
}
