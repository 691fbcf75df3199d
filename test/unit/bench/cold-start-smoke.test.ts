import {
  COLD_START_QUICK,
  coldStartOutput,
  packageOf,
  runColdStartBenchmark,
} from '../../../bench/scenarios/cold-start';

describe('cold-start benchmark (quick sizes)', () => {
  it('bundles each example function and times its require in a fresh process', async () => {
    // Given
    const config = { ...COLD_START_QUICK, functions: { orders: 'functions/example/orders.ts' } };

    // When
    const { summary } = coldStartOutput(await runColdStartBenchmark(config));

    // Then
    const orders = summary.orders as { bundleBytes: number; initMs: number };
    expect(orders.bundleBytes).toBeGreaterThan(0);
    expect(orders.initMs).toBeGreaterThan(0);
  });

  it('attributes an input to its package, scoped or not, or to the project', () => {
    // When
    const names = [
      packageOf('node_modules/@aws-lambda-powertools/logger/lib/esm/Logger.js'),
      packageOf('node_modules/zod/v4/core/schemas.js'),
      packageOf('functions/runtime/decode-event.ts'),
    ];

    // Then
    expect(names).toStrictEqual(['@aws-lambda-powertools/logger', 'zod', '(project)']);
  });
});
