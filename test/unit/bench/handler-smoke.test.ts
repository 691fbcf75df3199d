import {
  checkCounts,
  handlerOutput,
  QUICK,
  runHandlerBenchmark,
  VARIANTS,
} from '../../../bench/scenarios/handler';

describe('handler benchmark (quick sizes)', () => {
  it('measures all six variants and checks every sample counted the same views', async () => {
    // Given
    const config = { ...QUICK, records: 200, runs: 2 };

    // When
    const result = await runHandlerBenchmark(config);
    const { summary } = handlerOutput(result);

    // Then
    expect(Object.keys(summary)).toStrictEqual([...VARIANTS]);
    for (const name of VARIANTS) {
      expect(summary[name]).toBeGreaterThan(0);
      expect(result.samples[name]).toHaveLength(2);
    }
    expect(result.countsChecked).toBe((config.warmupRuns + config.runs) * VARIANTS.length);
  });

  it('repeats each variant until its sample has lasted sampleMs, without a warm-up run to size it', async () => {
    // Given: no warm-up run, and batches so small that one invocation takes far less than 30 ms
    const config = { ...QUICK, records: 20, runs: 1, warmupRuns: 0, sampleMs: 30 };

    // When
    const result = await runHandlerBenchmark(config);

    // Then
    expect(result.invocationsPerSample.handLoop).toBeGreaterThan(1);
  });

  it('fails if a variant counted differently', () => {
    // Given
    const expected = new Map([
      ['p-00001', 2],
      ['p-00002', 1],
    ]);
    const actual = new Map([
      ['p-00001', 1],
      ['p-00002', 2],
    ]);

    // When / Then
    expect(() => checkCounts('driverless', expected, actual)).toThrow(
      'driverless: counted 1 views of p-00001, expected 2',
    );
  });

  it('fails if a variant counted a product that is not in the batch', () => {
    // Given
    const expected = new Map([['p-00001', 1]]);
    const actual = new Map([
      ['p-00001', 1],
      ['p-09999', 1],
    ]);

    // When / Then
    expect(() => checkCounts('powertools', expected, actual)).toThrow(
      'powertools: counted 2 products, expected 1',
    );
  });
});
