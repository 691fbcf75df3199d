import { appSource } from '../../../bench/scenarios/synth';

describe('synth benchmark app', () => {
  it('declares the asked number of sources, split into stacks', () => {
    // When
    const source = appSource(50, 20);

    // Then
    expect(source).toContain('const total = 50;');
    expect(source).toContain('const perStack = 20;');
    expect(source).toContain('app.synth();');
  });
});
