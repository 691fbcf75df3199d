import { addsResources, planUpdate } from '../../../cli/dev/plan-update';
import type { LocalApp, LocalFunction } from '../../../emulator/index';

function fn(overrides: Partial<LocalFunction> = {}): LocalFunction {
  return {
    logicalId: 'OrdersFunction',
    name: 'App-OrdersFunction',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:App-OrdersFunction',
    codeDirectory: '/out/assembly-0/asset.aaa',
    handler: 'index.handler',
    timeoutSeconds: 30,
    memoryMb: 256,
    environment: { DRIVERLESS_SOURCE: 'orders' },
    aliases: ['live'],
    ...overrides,
  };
}

function app(overrides: Partial<LocalApp> = {}): LocalApp {
  return {
    stackName: 'App',
    region: 'us-east-1',
    accountId: '000000000000',
    streams: [{ logicalId: 'Orders', name: 'orders', arn: 'arn:s/orders', shardCount: 1 } as never],
    consumers: [],
    tables: [],
    queues: [],
    buckets: [],
    functions: [fn()],
    mappings: [],
    schedules: [],
    skipped: [],
    ...overrides,
  };
}

describe('planUpdate', () => {
  it('publishes a function whose asset changed, and asks for no restart', () => {
    // Given: the same app, its bundle rebuilt into a new assembly under a new hash
    const next = app({ functions: [fn({ codeDirectory: '/out/assembly-1/asset.bbb' })] });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect(plan.publish).toStrictEqual([
      { functionName: 'App-OrdersFunction', codeDirectory: '/out/assembly-1/asset.bbb' },
    ]);
    expect(plan.needRestart).toStrictEqual([]);
    expect(addsResources(plan)).toBe(false);
  });

  it('publishes nothing when only the assembly directory changed, not the asset', () => {
    // Given
    const next = app({ functions: [fn({ codeDirectory: '/out/assembly-1/asset.aaa' })] });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect([plan.publish, plan.needRestart, addsResources(plan)]).toStrictEqual([[], [], false]);
  });

  it("names a function's changed settings as needing a restart, and still publishes its code", () => {
    // Given
    const next = app({
      functions: [
        fn({
          codeDirectory: '/out/a/asset.bbb',
          environment: { DRIVERLESS_SOURCE: 'x' },
          memoryMb: 512,
        }),
      ],
    });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect(plan.needRestart).toStrictEqual([
      'function OrdersFunction: memoryMb, environment changed',
    ]);
    expect(plan.publish).toHaveLength(1);
  });

  it('adds new resources of every kind it can create, and asks for no restart', () => {
    // Given: a new source (stream, function, mapping), its table, queue, bucket and schedule
    const stream = { logicalId: 'Clicks', name: 'clicks', arn: 'arn:s/clicks', shardCount: 1 };
    const clicksFn = fn({ logicalId: 'ClicksFunction', name: 'App-ClicksFunction' });
    const mapping = { logicalId: 'ClicksMapping', uuid: 'u-1', functionName: clicksFn.name };
    const table = { logicalId: 'Totals', name: 'totals' };
    const queue = { logicalId: 'Letters', name: 'letters' };
    const bucket = { logicalId: 'Archive', name: 'archive' };
    const rule = { logicalId: 'Tick', name: 'tick', rateMs: 60_000, targets: [] };
    const next = app({
      streams: [...app().streams, stream as never],
      functions: [fn(), clicksFn],
      mappings: [mapping as never],
      tables: [table as never],
      queues: [queue as never],
      buckets: [bucket as never],
      schedules: [rule as never],
    });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect(plan.add).toStrictEqual({
      ...next,
      streams: [stream],
      consumers: [],
      tables: [table],
      queues: [queue],
      buckets: [bucket],
      functions: [clicksFn],
      mappings: [mapping],
      schedules: [rule],
      skipped: [],
    });
    expect([plan.publish, plan.needRestart, addsResources(plan)]).toStrictEqual([[], [], true]);
  });

  it('names a mapping whose config changed, with the settings, as needing a restart', () => {
    // Given: the same mapping with another batch size and batching window
    const mapping = {
      logicalId: 'OrdersMapping',
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
      uuid: 'u-1',
      batchSize: 100,
      maximumBatchingWindowSeconds: 0,
    };
    const next = app({
      mappings: [{ ...mapping, batchSize: 500, maximumBatchingWindowSeconds: 5 } as never],
    });

    // When
    const plan = planUpdate(app({ mappings: [mapping as never] }), next);

    // Then
    expect(plan.needRestart).toStrictEqual([
      'event source mapping on orders: batchSize, maximumBatchingWindowSeconds changed',
    ]);
    expect(addsResources(plan)).toBe(false);
  });

  it('names changed and removed resources as needing a restart, and adds what is new', () => {
    // Given
    const next = app({
      streams: [
        { logicalId: 'Orders', name: 'orders', arn: 'arn:s/orders', shardCount: 2 } as never,
      ],
      tables: [{ logicalId: 'Totals', name: 'totals' } as never],
      functions: [],
    });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect(plan.needRestart).toStrictEqual([
      'stream orders: shardCount changed',
      'function OrdersFunction removed',
    ]);
    expect(plan.add.tables).toStrictEqual([{ logicalId: 'Totals', name: 'totals' }]);
  });
});
