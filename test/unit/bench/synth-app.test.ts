import { appSource } from '../../../bench/scenarios/synth';

describe('synth benchmark app', () => {
  it('declares the asked number of sources', () => {
    // When
    const source = appSource(50);

    // Then
    expect(source).toContain('Array.from({ length: 50 }');
    expect(source).toContain('app.synth();');
  });
});
