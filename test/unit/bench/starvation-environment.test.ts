import { starvationEnvironment } from '../../../bench/scenarios/starvation';

describe('starvation benchmark loads from the environment', () => {
  it('reads the CPU cost and rates it names', () => {
    // Given
    const env = { BENCH_STARVATION_EXPENSIVE_US: '1000', BENCH_STARVATION_CHEAP_RATE: '100' };

    // When
    const overrides = starvationEnvironment(env);

    // Then
    expect(overrides).toStrictEqual({ expensiveCostUs: 1000, cheapRatePerSecond: 100 });
  });

  it('fails if a value is not an integer', () => {
    // Given
    const env = { BENCH_STARVATION_CHEAP_US: '1.5' };

    // When / Then
    expect(() => starvationEnvironment(env)).toThrow(
      'BENCH_STARVATION_CHEAP_US must be an integer (given 1.5)',
    );
  });
});
