import { InvocationBilling, memoryMbOf } from '../../../functions/runtime/batch-cost';
import { BatchTimings } from '../../../functions/runtime/batch-timings';

function timingsOf(stages: Record<string, [number, string]>): BatchTimings {
  const timings = new BatchTimings();
  for (const [stage, [ms, job]] of Object.entries(stages)) timings.stageComputed(stage, job, ms);
  return timings;
}

describe('the cost of an invocation', () => {
  test('is memory times duration rounded up to the millisecond', () => {
    // Given
    const billing = new InvocationBilling(0);

    // When
    const cost = billing.cost(2048, 99.2, new BatchTimings(), new Map());

    // Then: 2 GB × 0.1 s
    expect(cost?.gbSeconds).toBeCloseTo(0.2, 10);
  });

  test('bills the init phase to the first invocation of the environment only', () => {
    // Given
    const billing = new InvocationBilling(400);

    // When
    const first = billing.cost(1024, 100, new BatchTimings(), new Map());
    const second = billing.cost(1024, 100, new BatchTimings(), new Map());

    // Then
    expect(first?.gbSeconds).toBeCloseTo(0.5, 10);
    expect(second?.gbSeconds).toBeCloseTo(0.1, 10);
  });

  test('divides the invocation among stages and jobs by measured time, a stage not counted twice', () => {
    // Given: `enrich` took 20 ms inside `a`, which took 60 ms in all; `b` took 20 ms
    const timings = timingsOf({ enrich: [20, 'a'] });
    const billing = new InvocationBilling(0);

    // When
    const cost = billing.cost(
      1024,
      120,
      timings,
      new Map([
        ['a', 60],
        ['b', 20],
      ]),
    );

    // Then: measured 20 (stage) + 40 (a) + 20 (b) = 80 ms share 0.12 GB-s
    expect(cost?.stages.enrich).toBeCloseTo(0.03, 10);
    expect(cost?.jobs.a).toBeCloseTo(0.06, 10);
    expect(cost?.jobs.b).toBeCloseTo(0.03, 10);
  });

  test('adds up to the whole invocation', () => {
    // Given
    const timings = timingsOf({ parse: [7, 'x'], score: [3, 'y'] });
    const billing = new InvocationBilling(250);

    // When
    const cost = billing.cost(
      1769,
      333,
      timings,
      new Map([
        ['x', 50],
        ['y', 9],
        ['z', 1],
      ]),
    );

    // Then
    const parts = [...Object.values(cost?.jobs ?? {}), ...Object.values(cost?.stages ?? {})];
    expect(parts.reduce((sum, part) => sum + part, 0)).toBeCloseTo(cost?.gbSeconds ?? -1, 10);
  });

  test('gives the whole cost to the batch when nothing was measured', () => {
    // Given: a window's final invocation runs no job
    const billing = new InvocationBilling(0);

    // When
    const cost = billing.cost(1024, 10, new BatchTimings(), new Map());

    // Then
    expect(cost).toEqual({ gbSeconds: 0.01, jobs: {}, stages: {} });
  });

  test('is unknown without the function memory', () => {
    // Then
    expect(
      new InvocationBilling(0).cost(undefined, 10, new BatchTimings(), new Map()),
    ).toBeUndefined();
  });
});

describe('the memory of the function', () => {
  test('comes from the invocation context', () => {
    expect(memoryMbOf({ memoryLimitInMB: '1769' }, {})).toBe(1769);
  });

  test('falls back to the variable Lambda sets', () => {
    expect(memoryMbOf(undefined, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' })).toBe(512);
  });

  test('is unknown when neither says', () => {
    expect(memoryMbOf({}, {})).toBeUndefined();
  });
});
