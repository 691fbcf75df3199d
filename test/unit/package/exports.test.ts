/**
 * Every public entry of the package is wired the same four ways: package.json `exports` (what a
 * user's import resolves to), the build (which writes those files), tsconfig `paths` and jest's
 * `moduleNameMapper` (which resolve the same name to the sources inside this repository).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const manifest = JSON.parse(read('package.json')) as {
  exports: Record<string, { types: string; import: string; require: string } | string>;
};
/** tsconfig.json holds comments: only its `paths` block is read. */
const paths = JSON.parse(
  /"paths":\s*(\{[^}]*\})/.exec(read('tsconfig.json'))?.[1] ?? '{}',
) as Record<string, string[]>;
const buildConfig = JSON.parse(read('tsconfig.build.json')) as { files: string[] };
const buildScript = read('scripts/build.mjs');
const jestMapper = (
  require(join(ROOT, 'jest.config.js')) as {
    projects: { moduleNameMapper: Record<string, string> }[];
  }
).projects[0]?.moduleNameMapper;

/** The entries, as `[import name, exports condition map]`. */
const entries = Object.entries(manifest.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, target]) => [`driverless${subpath.slice(1)}`, target] as const);

/** `./dist/types/testing/index.d.ts` → `testing/index.ts`. */
const sourceOfTypes = (types: string) =>
  types.replace('./dist/types/', '').replace(/\.d\.ts$/, '.ts');

describe('package entries', () => {
  it('exports the constructs, the runtime and the testing API', () => {
    // Then
    expect(entries.map(([name]) => name)).toStrictEqual([
      'driverless',
      'driverless/runtime',
      'driverless/testing',
    ]);
  });

  it.each(entries)('builds %s as CommonJS, an ES module and declarations', (_name, target) => {
    // Given
    if (typeof target === 'string') throw new Error('every entry names types, import and require');
    const cjs = target.require.replace('./', '');
    const mjs = target.import.replace('./dist/', '');

    // Then
    expect(buildScript).toContain(`outfile: '${cjs}'`);
    expect(buildScript).toContain(
      `writeFileSync(join(dist, '${mjs}'), reexport('${cjs.replace('dist/', '')}'))`,
    );
    expect(buildConfig.files).toContain(sourceOfTypes(target.types));
  });

  it.each(entries)('resolves %s to the same sources in tsconfig and jest', (name, target) => {
    // Given
    if (typeof target === 'string') throw new Error('every entry names types, import and require');
    const source = sourceOfTypes(target.types);

    // Then
    expect(paths[name]).toStrictEqual([`./${source}`]);
    expect(jestMapper?.[`^${name}$`]).toBe(`<rootDir>/${source}`);
  });
});
