import { planUpdate } from '../../../cli/dev/plan-update';
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
    expect(plan).toStrictEqual({
      publish: [{ functionName: 'App-OrdersFunction', codeDirectory: '/out/assembly-1/asset.bbb' }],
      needRestart: [],
    });
  });

  it('publishes nothing when only the assembly directory changed, not the asset', () => {
    // Given
    const next = app({ functions: [fn({ codeDirectory: '/out/assembly-1/asset.aaa' })] });

    // When
    const plan = planUpdate(app(), next);

    // Then
    expect(plan).toStrictEqual({ publish: [], needRestart: [] });
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
      "function OrdersFunction's memoryMb, environment changed: restart to apply",
    ]);
    expect(plan.publish).toHaveLength(1);
  });

  it('names new, changed and removed resources as needing a restart', () => {
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
      'stream Orders changed (shardCount): restart to apply',
      'new table Totals: restart to add it',
      'function OrdersFunction removed: restart to drop it',
    ]);
  });
});
