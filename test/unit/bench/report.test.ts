import { cell, percentile } from '../../../bench/scenarios/report';

describe('benchmark report helpers', () => {
  it('takes the nearest-rank percentile', () => {
    // Given
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);

    // When
    const [p50, p99, p100] = [
      percentile(values, 50),
      percentile(values, 99),
      percentile(values, 100),
    ];

    // Then
    expect([p50, p99, p100]).toStrictEqual([50, 99, 100]);
  });

  it('fails if asked for a percentile of no values', () => {
    // When / Then
    expect(() => percentile([], 50)).toThrow('percentile of no values');
  });

  it('formats the median with the min–max of the runs', () => {
    // When
    const text = cell([3, 1, 2], 0);

    // Then
    expect(text).toBe('2 (1–3)');
  });
});
