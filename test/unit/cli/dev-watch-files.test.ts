import { isWatched, type WatchPatterns } from '../../../cli/dev/watch-files';

// The section `driverless init` writes into cdk.json (the one `cdk watch` reads).
const INIT: WatchPatterns = {
  include: ['**'],
  exclude: [
    'README.md',
    'cdk*.json',
    '**/*.d.ts',
    '**/*.js',
    'tsconfig.json',
    'package*.json',
    'node_modules',
    'test',
  ],
};

describe('isWatched', () => {
  it.each([
    ['functions/page-views.ts', true],
    ['lib/click-pipeline-stack.ts', true],
    ['bin/app.ts', true],
    ['test/unit/page-views.test.ts', false],
    ['README.md', false],
    ['cdk.context.json', false],
    ['lib/types.d.ts', false],
    ['functions/compiled.js', false],
    ['cdk.out/asset.abc/index.js', false],
    ['.driverless/dev-1/assembly-1/manifest.json', false],
    ['node_modules/x/index.ts', false],
  ])('%s: %s, under the section driverless init writes', (path, watched) => {
    // When
    const result = isWatched(path, INIT);

    // Then
    expect(result).toBe(watched);
  });

  it('follows an include list of directories, as the repository cdk.json has', () => {
    // Given
    const patterns: WatchPatterns = { include: ['bin/**', 'functions/**'], exclude: [] };

    // When
    const result = ['functions/example/orders.ts', 'bench/run.ts'].map((p) =>
      isWatched(p, patterns),
    );

    // Then
    expect(result).toStrictEqual([true, false]);
  });
});
