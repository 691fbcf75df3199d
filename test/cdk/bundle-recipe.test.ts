/**
 * The `driverless:bundle` metadata a StreamFunction records: enough for `driverless dev` to rebuild
 * the function's bundle with esbuild alone, byte for byte the bundle the synth made.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { App } from 'aws-cdk-lib';
import * as esbuild from 'esbuild';
import { recipeBuildOptions } from '../../cli/dev/bundle-rebuilder';
import {
  BUNDLE_METADATA_KEY,
  type BundleRecipe,
  KPL_MODULE_FILE,
  readBundleRecipe,
} from '../../lib/function-bundle';
import { FIXTURE_ENTRY, sourceProps, synthPipeline } from './pipeline-fixtures';

interface FunctionResource {
  Metadata: Record<string, unknown>;
  Properties: { Code: { S3Key: string } };
}

function synthFunction(tracing: boolean): { fn: FunctionResource; assemblyDir: string } {
  const { stack, template } = synthPipeline({
    sources: { events: sourceProps({ entry: FIXTURE_ENTRY }) },
    ...(tracing ? { tracing: true } : {}),
  });
  const assembly = (stack.node.root as App).synth();
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as FunctionResource[];
  if (fn === undefined) throw new Error('no function in the template');
  return { fn, assemblyDir: assembly.directory };
}

describe('the bundle recipe', () => {
  it('records the entry relative to the directory the app runs in, and the esbuild options', () => {
    // Given / When
    const { fn } = synthFunction(false);

    // Then
    expect(fn.Metadata[BUNDLE_METADATA_KEY]).toStrictEqual({
      entry: relative(process.cwd(), FIXTURE_ENTRY).split('\\').join('/'),
      externals: ['@aws-sdk/*', 'aws-kinesis-agg', '@aws-lambda-powertools/tracer'],
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      fromDependencies: [KPL_MODULE_FILE],
    });
  });

  it("keeps a traced function's tracer in the bundle", () => {
    // Given / When
    const { fn } = synthFunction(true);

    // Then
    expect((fn.Metadata[BUNDLE_METADATA_KEY] as BundleRecipe).externals).toStrictEqual([
      '@aws-sdk/*',
      'aws-kinesis-agg',
    ]);
  });

  it('rebuilt with esbuild alone, gives the bundle the synth made', async () => {
    // Given
    const { fn, assemblyDir } = synthFunction(false);
    const recipe = readBundleRecipe(fn.Metadata[BUNDLE_METADATA_KEY]);
    const asset = join(assemblyDir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);

    // When
    const result = await esbuild.build(
      recipeBuildOptions(process.cwd(), recipe as BundleRecipe, join(assemblyDir, 'rebuilt')),
    );

    // Then
    const bundle = result.outputFiles.find((file) => file.path.endsWith('index.js'));
    expect(bundle?.text).toBe(readFileSync(join(asset, 'index.js'), 'utf8'));
  });
});

describe('readBundleRecipe', () => {
  it('reads nothing from metadata this version does not write', () => {
    // Given: another target, as an app built with another version might record
    const other = {
      entry: 'functions/a.ts',
      externals: [],
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      fromDependencies: [],
    };

    // When / Then
    expect(readBundleRecipe(other)).toBeUndefined();
    expect(readBundleRecipe({ ...other, target: 'node24' })).toStrictEqual({
      ...other,
      target: 'node24',
    });
  });
});
