import type { LocalApp } from '../../../emulator/index';
import { functionsNamed, modelOfApp, streamNamed, tableNamed } from '../../../testing/app-model';

const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream';

/** An app of two sources: `orders` (one function) and `views` (two, one for an isolated job). */
function app(): LocalApp {
  const fn = (name: string, logicalId: string, source: string) => ({
    logicalId,
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    codeDirectory: '/tmp',
    handler: 'index.handler',
    timeoutSeconds: 30,
    memoryMb: 1024,
    environment: { DRIVERLESS_SOURCE: source },
    aliases: ['live'],
  });
  const mapping = (functionName: string, stream: string) =>
    ({
      functionName: `${functionName}:live`,
      streamArn: `${ARN}/${stream}`,
    }) as LocalApp['mappings'][number];
  return {
    stackName: 'App',
    region: 'us-east-1',
    accountId: '000000000000',
    streams: [
      {
        logicalId: 'OrdersStream',
        name: 'orders',
        arn: `${ARN}/orders`,
        shardCount: 1,
        retentionHours: 24,
      },
      {
        logicalId: 'ViewsStream',
        name: 'views',
        arn: `${ARN}/views`,
        shardCount: 2,
        retentionHours: 24,
      },
    ],
    consumers: [],
    tables: [
      {
        logicalId: 'Totals',
        name: 'App-Totals-1A2B',
        arn: 'arn:table',
        partitionKey: { name: 'id', type: 'S' },
      },
    ],
    queues: [],
    buckets: [],
    functions: [
      fn('App-OrdersFn-1', 'OrdersFn', 'orders'),
      fn('App-ViewsFn-2', 'ViewsFn', 'productViews'),
      fn('App-ViewsPopularityFn-3', 'ViewsPopularityFn', 'productViews'),
    ],
    mappings: [
      mapping('App-OrdersFn-1', 'orders'),
      mapping('App-ViewsFn-2', 'views'),
      mapping('App-ViewsPopularityFn-3', 'views'),
    ],
    schedules: [],
    skipped: [],
  };
}

describe('names a test gives', () => {
  it('resolve a source to the stream its functions read', () => {
    // When / Then
    expect(streamNamed(modelOfApp(app()), 'productViews')).toBe('views');
  });

  it('resolve a source to all of its functions, and a logical ID to one', () => {
    // Given
    const model = modelOfApp(app());

    // When / Then
    expect(functionsNamed(model, 'productViews').map((fn) => fn.name)).toStrictEqual([
      'App-ViewsFn-2',
      'App-ViewsPopularityFn-3',
    ]);
    expect(functionsNamed(model, 'ViewsFn').map((fn) => fn.name)).toStrictEqual(['App-ViewsFn-2']);
  });

  it('resolve a table by its logical ID to its physical name', () => {
    // When / Then
    expect(tableNamed(modelOfApp(app()), 'Totals')).toBe('App-Totals-1A2B');
  });

  it('fail if nothing has the name, listing the streams and sources there are', () => {
    // When / Then
    expect(() => streamNamed(modelOfApp(app()), 'clicks')).toThrow(
      'no stream or source is named clicks (streams: orders, views; sources: orders, productViews)',
    );
  });
});
