import { appSource, SYNTH_QUICK, synthOutput } from '../../../bench/scenarios/synth';

describe('synth benchmark app', () => {
  it('declares the asked number of sources, split into stacks', () => {
    // When
    const source = appSource(50, 20);

    // Then
    expect(source).toContain('const total = 50;');
    expect(source).toContain('const perStack = 20;');
    expect(source).toContain('app.synth();');
  });

  it('summarises seconds and template bytes per number of sources', () => {
    // Given
    const result = {
      config: { ...SYNTH_QUICK, sources: [1, 10] },
      sizes: {
        '1': { seconds: [5, 6], templateBytes: 1000, resources: 22, stacks: 1 },
        '10': { seconds: [7, 8], templateBytes: 9000, resources: 202, stacks: 1 },
      },
    };

    // When
    const { summary } = synthOutput(result);

    // Then
    expect(summary).toStrictEqual({
      '1': { seconds: 5.5, templateBytes: 1000 },
      '10': { seconds: 7.5, templateBytes: 9000 },
    });
  });
});
